"""Game days: a drill incident from a scenario runs the real workflow (escalation, paging,
timeline, resolution), with its participants standing in for the on-call: the incident is
marked `drill`, and escalation and notify page nobody else (incidents.drill_participants)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.catalog.models import Service
from tocsin.db import rows
from tocsin.drills import report
from tocsin.drills.models import Drill, DrillStatus, Scenario
from tocsin.drills.schemas import DrillStart, ScenarioIn
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.escalation import service as escalation
from tocsin.escalation.schemas import PageIn
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.incidents.schemas import IncidentCreate
from tocsin.postmortems import service as postmortems
from tocsin.postmortems.service import check_users
from tocsin.principal import Principal
from tocsin.settings import Settings

TITLE_MARK = "[DRILL] "


def create_scenario(session: Session, *, data: ScenarioIn, now: datetime) -> Scenario:
    if data.service_id is not None and session.get(Service, data.service_id) is None:
        raise Invalid(f"service_id: no service with id {data.service_id}")
    if session.scalars(select(Scenario.id).where(Scenario.name == data.name)).first():
        raise Conflict(f"a scenario named '{data.name}' exists")
    return rows.add_object(session, Scenario, need_id=True, name=data.name,
                           alert_title=data.alert_title, alert_text=data.alert_text,
                           service_id=data.service_id, severity=data.severity.value,
                           created_at=now)


def scenarios(session: Session, *, after_id: int | None, limit: int) -> list[Scenario]:
    query = select(Scenario).order_by(Scenario.id).limit(limit)
    if after_id is not None:
        query = query.where(Scenario.id > after_id)
    return list(session.scalars(query))


def start(session: Session, *, data: DrillStart, actor: Principal, now: datetime,
          settings: Settings) -> Drill:
    """Declare the drill incident with the participants as its members. Escalation runs the
    service's real policy, but each level pages the participants; with no policy they are
    paged at once."""
    scenario = session.get(Scenario, data.scenario_id)
    if scenario is None:
        raise Invalid(f"scenario_id: no scenario with id {data.scenario_id}")
    participants = sorted(set(data.participant_ids))
    check_users(session, participants, "participant_ids")
    incident = incidents.declare(session, actor=actor, now=now, settings=settings, drill=True,
                                 data=IncidentCreate(
                                     title=TITLE_MARK + scenario.alert_title,
                                     description=scenario.alert_text,
                                     severity=lc.Severity(scenario.severity),
                                     service_ids=[scenario.service_id]
                                     if scenario.service_id else [],
                                     member_ids=participants))
    session.flush()
    try:
        escalation.escalation_of(session, incident.id)
    except NotFound:  # no policy for this service and severity: page the participants now
        escalation.page_on_demand(session, incident=incident, actor_id=actor.user_id, now=now,
                                  data=PageIn(user_ids=participants, note="game-day drill"))
    return rows.add_object(session, Drill, need_id=True, scenario_id=scenario.id,
                           incident_id=incident.id, status=DrillStatus.RUNNING.value,
                           started_by_id=actor.user_id, started_at=now)


def get(session: Session, drill_id: int, viewer: Principal) -> Drill:
    drill = session.get(Drill, drill_id)
    if drill is None:
        raise NotFound(f"drill {drill_id} does not exist")
    incidents.get_visible(session, incident_id=drill.incident_id, viewer=viewer)
    return drill


def finish(session: Session, *, drill: Drill, now: datetime) -> None:
    incident = session.get_one(Incident, drill.incident_id)
    if incident.resolved_at is None:
        raise Conflict("resolve the drill incident first (that is part of the drill)")
    if drill.status == DrillStatus.FINISHED.value:
        raise Conflict("the drill is already finished")
    drill.status, drill.finished_at = DrillStatus.FINISHED.value, now


def participants(session: Session, drill: Drill) -> list[int]:
    incident = session.get_one(Incident, drill.incident_id)
    return incidents.drill_participants(session, incident) or []


def report_of(session: Session, drill: Drill) -> list[report.Line]:
    incident = session.get_one(Incident, drill.incident_id)
    return report.build(postmortems.facts_of(session, incident),
                        postmortems.events_of(session, incident.id))
