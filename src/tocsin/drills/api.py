"""Game-day routes under /api/v1/drills."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tocsin.api import pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.drills import service
from tocsin.drills.models import Drill, Scenario
from tocsin.drills.schemas import DrillOut, DrillStart, ReportLine, ScenarioIn, ScenarioOut
from tocsin.limits import Id

router = APIRouter(prefix="/api/v1/drills", tags=["drills"])


def _scenario(s: Scenario) -> ScenarioOut:
    return ScenarioOut(id=s.id, name=s.name, alert_title=s.alert_title,
                       alert_text=s.alert_text, service_id=s.service_id, severity=s.severity)


def _out(session: Session, d: Drill) -> DrillOut:
    lines = [ReportLine(measure=line.measure,
                        took_seconds=None if line.took is None else line.took.total_seconds(),
                        target_seconds=None if line.target is None else line.target.total_seconds(),
                        met=line.met) for line in service.report_of(session, d)]
    return DrillOut(id=d.id, scenario_id=d.scenario_id, incident_id=d.incident_id,
                    status=d.status, participant_ids=service.participants(session, d),
                    started_at=d.started_at, finished_at=d.finished_at, report=lines)


@router.post("/scenarios", status_code=201, response_model=ScenarioOut)
def create_scenario(data: ScenarioIn, session: SessionDep, rt: RuntimeDep,
                    who: Responder) -> ScenarioOut:
    s = service.create_scenario(session, data=data, now=rt.clock.now())
    session.commit()
    return _scenario(s)


@router.get("/scenarios", response_model=Page[ScenarioOut], summary="Scenarios, by id")
def list_scenarios(session: SessionDep, who: Viewer, cursor: str | None = None,
                   limit: Limit = 100) -> Page[ScenarioOut]:
    rows = service.scenarios(session, after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, _scenario, lambda s: s.id)


@router.post("", status_code=201, response_model=DrillOut,
             summary="Start a drill: pages only its participants")
def start(data: DrillStart, session: SessionDep, rt: RuntimeDep, who: Responder) -> DrillOut:
    d = service.start(session, data=data, actor=who, now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return _out(session, d)


@router.get("/{drill_id}", response_model=DrillOut, summary="The drill and its report")
def show(drill_id: Id, session: SessionDep, who: Viewer) -> DrillOut:
    return _out(session, service.get(session, drill_id, who))


@router.post("/{drill_id}/finish", response_model=DrillOut)
def finish(drill_id: Id, session: SessionDep, rt: RuntimeDep, who: Responder) -> DrillOut:
    d = service.get(session, drill_id, who)
    service.finish(session, drill=d, now=rt.clock.now())
    session.commit()
    return _out(session, d)
