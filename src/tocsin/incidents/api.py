"""Incident routes under /api/v1/incidents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tocsin.api import idempotency, pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service
from tocsin.incidents.models import Incident
from tocsin.incidents.schemas import (
    CloseRequest,
    EntryCreate,
    EventOut,
    IncidentCreate,
    IncidentOut,
    IncidentPage,
    IncidentUpdate,
    MemberAdd,
    ReopenRequest,
    ResolveRequest,
    RoleChange,
    SeverityChange,
    StatusChange,
)
from tocsin.limits import Id, Timestamp
from tocsin.principal import Principal
from tocsin.runtime import Runtime

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def to_out(session: Session, incidents: list[Incident], now: datetime) -> list[IncidentOut]:
    services = service.service_ids_of(session, [i.id for i in incidents])
    out = []
    for i in incidents:
        status = lc.Status(i.status)
        missing = (service.close_check_of(i, now=now).missing
                   if status is lc.Status.RESOLVED else [])
        out.append(IncidentOut(
            id=i.id, number=i.number, title=i.title, description=i.description, status=status,
            severity=lc.Severity(i.severity), impact=lc.Impact(i.impact),
            urgency=lc.Urgency(i.urgency),
            category_system=lc.CategorySystem(i.category_system) if i.category_system else None,
            category_type=lc.CategoryType(i.category_type) if i.category_type else None,
            detection_source=lc.DetectionSource(i.detection_source),
            service_ids=services[i.id], reporter_id=i.reporter_id,
            commander_id=i.commander_id, tech_lead_id=i.tech_lead_id,
            comms_lead_id=i.comms_lead_id, acknowledged_by_id=i.acknowledged_by_id,
            restricted=i.restricted, drill=i.drill, impact_started_at=i.impact_started_at,
            impact_ended_at=i.impact_ended_at, detected_at=i.detected_at,
            acknowledged_at=i.acknowledged_at, resolved_at=i.resolved_at,
            closed_at=i.closed_at, recovery_until=i.recovery_until,
            last_update_at=i.last_update_at, resolution_summary=i.resolution_summary,
            users_affected=i.users_affected, reopen_count=i.reopen_count,
            bridge_url=i.bridge_url,
            created_at=i.created_at, updated_at=i.updated_at,
            legal_next_statuses=lc.legal_next(status), close_missing=missing))
    return out


def _one(session: Session, incident: Incident, rt: Runtime) -> IncidentOut:
    return to_out(session, [incident], rt.clock.now())[0]


def _act(session: Session, rt: Runtime, incident_id: Id, who: Principal,
         action: Callable[[Incident, datetime], object]) -> IncidentOut:
    """Load the incident (locked, if `who` may see it), apply `action`, commit, answer."""
    incident = service.get_visible(session, incident_id=incident_id, viewer=who, for_update=True)
    action(incident, rt.clock.now())
    session.commit()
    return _one(session, incident, rt)


@router.post("", status_code=201, response_model=IncidentOut,
             summary="Declare an incident")
def declare(data: IncidentCreate, session: SessionDep, rt: RuntimeDep, who: Responder,
            idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
            ) -> IncidentOut | JSONResponse:
    now = rt.clock.now()
    return idempotency.create_once(
        session, user_id=who.user_id, key=idempotency_key, path=router.prefix, request=data,
        now=now, make=lambda: _one(session, service.declare(
            session, actor=who, data=data, now=now, settings=rt.settings), rt))


@router.get("", response_model=IncidentPage, summary="List incidents, newest first")
def list_incidents(
    session: SessionDep, rt: RuntimeDep, who: Viewer,
    status: Annotated[list[lc.Status] | None, Query()] = None,
    severity: Annotated[list[lc.Severity] | None, Query()] = None,
    service_id: Id | None = None,
    open: bool = False,
    created_after: Timestamp | None = None,
    created_before: Timestamp | None = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> IncidentPage:
    filters = service.ListFilters(statuses=status, severities=severity, service_id=service_id,
                                  created_after=created_after, created_before=created_before,
                                  open_only=open)
    rows, next_before = service.list_visible(
        session, viewer=who, filters=filters, before_id=pagination.decode(cursor),
        limit=limit or rt.settings.page_size_default)
    return IncidentPage(items=to_out(session, rows, rt.clock.now()),
                        next_cursor=pagination.encode(next_before) if next_before else None)


@router.get("/{incident_id}", response_model=IncidentOut)
def show(incident_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer) -> IncidentOut:
    incident = service.get_visible(session, incident_id=incident_id, viewer=who)
    return _one(session, incident, rt)


@router.patch("/{incident_id}", response_model=IncidentOut)
def update(incident_id: Id, data: IncidentUpdate, session: SessionDep, rt: RuntimeDep,
           who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.update_fields(
        session, incident=incident, actor=who, data=data, now=now))


@router.get("/{incident_id}/timeline", response_model=list[EventOut])
def timeline(incident_id: Id, session: SessionDep, who: Viewer) -> list[EventOut]:
    incident = service.get_visible(session, incident_id=incident_id, viewer=who)
    return [EventOut(id=e.id, at=e.at, kind=e.kind, actor_id=e.actor_id, body=e.body,
                     data=e.data) for e in service.timeline(session, incident)]


@router.post("/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(incident_id: Id, session: SessionDep, rt: RuntimeDep,
                who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.acknowledge(
        session, incident=incident, actor=who, now=now, settings=rt.settings))


@router.post("/{incident_id}/status", response_model=IncidentOut)
def change_status(incident_id: Id, data: StatusChange, session: SessionDep, rt: RuntimeDep,
                  who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.change_status(
        session, incident=incident, actor=who, target=data.status, note=data.note, now=now,
        settings=rt.settings))


@router.post("/{incident_id}/severity", response_model=IncidentOut)
def change_severity(incident_id: Id, data: SeverityChange, session: SessionDep,
                    rt: RuntimeDep, who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.change_severity(
        session, incident=incident, actor=who, severity=data.severity, reason=data.reason,
        now=now, settings=rt.settings))


@router.post("/{incident_id}/roles", response_model=IncidentOut)
def assign_role(incident_id: Id, data: RoleChange, session: SessionDep, rt: RuntimeDep,
                who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.assign_role(
        session, incident=incident, actor=who, role=data.role, user_id=data.user_id, now=now))


@router.post("/{incident_id}/members", response_model=IncidentOut)
def add_member(incident_id: Id, data: MemberAdd, session: SessionDep, rt: RuntimeDep,
               who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.add_member(
        session, incident=incident, actor=who, user_id=data.user_id, now=now))


@router.post("/{incident_id}/entries", status_code=201, response_model=EventOut,
             summary="Add a note, hypothesis, action (with result) or decision (with reason)")
def add_entry(incident_id: Id, data: EntryCreate, session: SessionDep, rt: RuntimeDep,
              who: Responder) -> EventOut:
    incident = service.get_visible(session, incident_id=incident_id, viewer=who, for_update=True)
    event = service.add_entry(session, incident=incident, actor=who, entry=data,
                              now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return EventOut(id=event.id, at=event.at, kind=event.kind, actor_id=event.actor_id,
                    body=event.body, data=event.data)


@router.post("/{incident_id}/resolve", response_model=IncidentOut)
def resolve(incident_id: Id, data: ResolveRequest, session: SessionDep, rt: RuntimeDep,
            who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.resolve(
        session, incident=incident, actor=who, data=data, now=now, settings=rt.settings))


@router.post("/{incident_id}/close", response_model=IncidentOut)
def close(incident_id: Id, data: CloseRequest, session: SessionDep, rt: RuntimeDep,
          who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.close(
        session, incident=incident, actor=who, data=data, now=now))


@router.post("/{incident_id}/reopen", response_model=IncidentOut)
def reopen(incident_id: Id, data: ReopenRequest, session: SessionDep, rt: RuntimeDep,
           who: Responder) -> IncidentOut:
    return _act(session, rt, incident_id, who, lambda incident, now: service.reopen(
        session, incident=incident, actor=who, reason=data.reason, now=now, settings=rt.settings))
