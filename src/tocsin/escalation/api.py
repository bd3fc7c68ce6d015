"""Escalation policy routes, per-service policies, and paging on an incident."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.api import pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.catalog import service as catalog
from tocsin.escalation import reach, reachability, service
from tocsin.escalation.models import EscalationPolicy
from tocsin.escalation.schemas import (
    EscalationOut,
    LevelIn,
    PageIn,
    PolicyIn,
    PolicyOut,
    ServicePoliciesIn,
)
from tocsin.incidents import service as incidents
from tocsin.limits import Id
from tocsin.principal import Principal

router = APIRouter(tags=["escalation"])
PREFIX = "/api/v1/escalation-policies"


def guard_policy(session: Session, who: Principal, old_team: int | None,
                 new_team: int | None) -> None:
    """A policy changes only by its team's managers; moving it needs both teams'."""
    accounts.require_team_move(session, actor=who, old_team=old_team, new_team=new_team,
                               what="this escalation policy")


def _out(row: EscalationPolicy, people: reach.People | None = None) -> PolicyOut:
    return PolicyOut(id=row.id, name=row.name, description=row.description, repeat=row.repeat,
                     levels=[LevelIn.model_validate(lv) for lv in row.levels],
                     team_id=row.team_id,
                     paging_problems=reachability.policy_problems(row, people)
                     if people is not None else [])


@router.post(PREFIX, status_code=201, response_model=PolicyOut)
def create(data: PolicyIn, session: SessionDep, rt: RuntimeDep, who: Responder) -> PolicyOut:
    accounts.require_team_manager(session, actor=who, team_id=data.team_id,
                                  what="this escalation policy")
    row = service.create_policy(session, data=data, now=rt.clock.now())
    session.commit()
    return _out(row)


@router.get(PREFIX, response_model=Page[PolicyOut], summary="List escalation policies, by id")
def list_all(session: SessionDep, rt: RuntimeDep, who: Viewer, cursor: str | None = None,
             limit: Limit = 100) -> Page[PolicyOut]:
    people = reachability.load_people(session, now=rt.clock.now())
    return pagination.page_of_all(service.list_policies(session), cursor, limit,
                                  lambda r: _out(r, people), lambda r: r.id)


@router.get(PREFIX + "/{policy_id}", response_model=PolicyOut)
def show(policy_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer) -> PolicyOut:
    return _out(service.get_policy(session, policy_id),
                reachability.load_people(session, now=rt.clock.now()))


@router.put(PREFIX + "/{policy_id}", response_model=PolicyOut,
            summary="Replace a policy (running escalations keep their snapshot)")
def replace(policy_id: Id, data: PolicyIn, session: SessionDep, rt: RuntimeDep,
            who: Responder) -> PolicyOut:
    row = service.get_policy(session, policy_id)
    guard_policy(session, who, row.team_id, data.team_id)
    row = service.update_policy(session, row=row, data=data, now=rt.clock.now())
    session.commit()
    return _out(row)


@router.put("/api/v1/services/{service_id}/escalation-policies", response_model=dict[str, int],
            summary="Set the policy per severity for a service")
def set_for_service(service_id: Id, data: ServicePoliciesIn, session: SessionDep,
                    who: Responder) -> dict[str, int]:
    accounts.require_team_manager(
        session, actor=who, team_id=catalog.get_service(session, service_id).owner_team_id,
        what="this service's paging policies")
    out = service.set_service_policies(session, service_id=service_id, data=data)
    session.commit()
    return out


@router.get("/api/v1/services/{service_id}/escalation-policies", response_model=dict[str, int])
def get_for_service(service_id: Id, session: SessionDep, who: Viewer) -> dict[str, int]:
    return service.service_policies(session, service_id)


@router.get("/api/v1/incidents/{incident_id}/escalation", response_model=EscalationOut)
def escalation(incident_id: Id, session: SessionDep, who: Viewer) -> EscalationOut:
    incidents.get_visible(session, incident_id=incident_id, viewer=who)
    esc, next_at = service.escalation_of(session, incident_id)
    return EscalationOut(incident_id=incident_id, policy_id=esc.policy_id,
                         policy_name=str(esc.snapshot.get("name", "")), severity=esc.severity,
                         status=esc.status, level=esc.level + 1, loop=esc.loop,
                         generation=esc.generation, next_step_at=next_at,
                         started_at=esc.started_at)


@router.post("/api/v1/incidents/{incident_id}/page", response_model=dict[str, list[int]],
             summary="Page people now (a subject-matter expert, a team, a schedule)")
def page(incident_id: Id, data: PageIn, session: SessionDep, rt: RuntimeDep,
         who: Responder) -> dict[str, list[int]]:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who,
                                     for_update=True)
    paged = service.page_on_demand(session, incident=incident, data=data, actor_id=who.user_id,
                                   now=rt.clock.now())
    session.commit()
    return {"paged_user_ids": paged}
