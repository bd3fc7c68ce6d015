"""`/api/v1/metrics/...`: incident metrics, response targets, on-call health, as JSON or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tocsin.analytics import export, service
from tocsin.analytics.schemas import (
    ComplianceReport,
    Dimension,
    IncidentMetricsOut,
    IncidentTargetsOut,
    OnCallOut,
    Period,
    TargetIn,
    TargetsOut,
)
from tocsin.api.deps import Admin, RuntimeDep, SessionDep, Viewer
from tocsin.runtime import Runtime

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
CSV = {200: {"content": {"text/csv": {}}, "description": "the table as CSV"}}

Since = Annotated[datetime | None, Query(description="start (inclusive); default: 90 days "
                                                     "before `until`")]
Until = Annotated[datetime | None, Query(description="end (exclusive); default: now")]
Tz = Annotated[str, Query(max_length=64, description="time zone periods are cut in")]
Sev = Annotated[list[str] | None, Query(description="only these severities")]


def _window(rt: Runtime, since: datetime | None, until: datetime | None
            ) -> tuple[datetime, datetime]:
    return service.request_window(now=rt.clock.now(), since=since, until=until)


def _severities(values: list[str] | None) -> list[str] | None:
    return service.check_severities(values)


@router.get("/incidents", response_model=IncidentMetricsOut,
            summary="MTTD, MTTA, MTTR, MTBF and rates per severity, service, team or period")
def incident_metrics(session: SessionDep, rt: RuntimeDep, who: Viewer, since: Since = None,
                     until: Until = None, by: Dimension = "severity", period: Period = "week",
                     tz: Tz = "UTC", severity: Sev = None, service_id: int | None = None,
                     team_id: int | None = None) -> IncidentMetricsOut:
    start, end = _window(rt, since, until)
    return service.incident_metrics(session, viewer=who, since=start, until=end, by=by,
                                    period=period, zone=tz, severities=_severities(severity),
                                    service_id=service_id, team_id=team_id)


@router.get("/incidents.csv", response_class=Response, responses=CSV,  # type: ignore[arg-type]
            summary="The incident metrics table as CSV")
def incident_metrics_csv(session: SessionDep, rt: RuntimeDep, who: Viewer, since: Since = None,
                         until: Until = None, by: Dimension = "severity",
                         period: Period = "week", tz: Tz = "UTC", severity: Sev = None,
                         service_id: int | None = None, team_id: int | None = None) -> Response:
    out = incident_metrics(session, rt, who, since, until, by, period, tz, severity,
                           service_id, team_id)
    return Response(export.csv_of(r.model_dump() for r in out.rows), media_type="text/csv")


@router.get("/compliance", response_model=ComplianceReport,
            summary="Response-target compliance per period, and the incidents that missed")
def compliance(session: SessionDep, rt: RuntimeDep, who: Viewer, since: Since = None,
               until: Until = None, period: Period = "week", tz: Tz = "UTC",
               severity: Sev = None, service_id: int | None = None,
               team_id: int | None = None) -> ComplianceReport:
    start, end = _window(rt, since, until)
    return service.compliance(session, viewer=who, since=start, until=end, period=period,
                              zone=tz, now=rt.clock.now(), severities=_severities(severity),
                              service_id=service_id, team_id=team_id)


@router.get("/compliance.csv", response_class=Response, responses=CSV,  # type: ignore[arg-type]
            summary="Response-target compliance as CSV")
def compliance_csv(session: SessionDep, rt: RuntimeDep, who: Viewer, since: Since = None,
                   until: Until = None, period: Period = "week", tz: Tz = "UTC",
                   severity: Sev = None, service_id: int | None = None,
                   team_id: int | None = None) -> Response:
    out = compliance(session, rt, who, since, until, period, tz, severity, service_id, team_id)
    return Response(export.csv_of(r.model_dump() for r in out.rows), media_type="text/csv")


@router.get("/targets", response_model=TargetsOut, summary="Response targets")
def list_targets(session: SessionDep, who: Viewer) -> TargetsOut:
    return service.targets_out(session)


@router.put("/targets/{severity}", response_model=TargetsOut,
            summary="Set one severity's response targets (minutes; null: no target)")
def set_target(severity: str, data: TargetIn, session: SessionDep, rt: RuntimeDep,
               who: Admin) -> TargetsOut:
    service.set_target(session, severity=severity, data=data, actor=who, now=rt.clock.now())
    session.commit()
    return service.targets_out(session)


@router.delete("/targets/{severity}", response_model=TargetsOut,
               summary="Back to the DOMAIN §3 default targets for one severity")
def reset_target(severity: str, session: SessionDep, who: Admin) -> TargetsOut:
    service.reset_target(session, severity=severity, actor=who)
    session.commit()
    return service.targets_out(session)


@router.get("/incidents/{incident_id}/targets", response_model=IncidentTargetsOut,
            summary="One incident: acknowledgement, first update and resolution met or missed")
def incident_targets(incident_id: int, session: SessionDep, rt: RuntimeDep,
                     who: Viewer) -> IncidentTargetsOut:
    return service.incident_targets(session, incident_id=incident_id, viewer=who,
                                    now=rt.clock.now())


@router.get("/oncall", response_model=OnCallOut,
            summary="On-call health: pages per person and shift, off-hours, sleep, fairness")
def oncall(session: SessionDep, rt: RuntimeDep, who: Viewer, since: Since = None,
           until: Until = None, team_id: int | None = None, tz: Tz = "UTC") -> OnCallOut:
    start, end = _window(rt, since, until)
    return service.oncall(session, since=start, until=end, team_id=team_id, zone=tz,
                          per_shift_limit=rt.settings.analytics_pages_per_shift)


@router.get("/oncall.csv", response_class=Response, responses=CSV,  # type: ignore[arg-type]
            summary="On-call health per person as CSV")
def oncall_csv(session: SessionDep, rt: RuntimeDep, who: Viewer, since: Since = None,
               until: Until = None, team_id: int | None = None, tz: Tz = "UTC") -> Response:
    out = oncall(session, rt, who, since, until, team_id, tz)
    return Response(export.csv_of(p.model_dump() for p in out.people), media_type="text/csv")
