"""The stored per-incident summary the hook keeps entry by entry equals the one rebuilt from
the whole log, over generated histories written through the incident services: reopened
incidents, severity and service changes, recurrences, escalations, drills, several steps in
one transaction and steps refused mid-way (rolled back to a savepoint). And the metrics read
from it agree with the reduction of each incident's log read one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import Account
from tocsin.analytics import measures, queries, summary
from tocsin.analytics.models import IncidentFact
from tocsin.catalog import service as catalog
from tocsin.catalog.models import Service
from tocsin.catalog.schemas import ServiceCreate
from tocsin.errors import TocsinError
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService
from tocsin.incidents.schemas import (
    CloseRequest,
    EntryCreate,
    IncidentCreate,
    IncidentUpdate,
    ResolveRequest,
)
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime

START = datetime(2026, 6, 1, tzinfo=UTC)
STEPS = ["ack", "investigate", "note", "resolve", "reopen", "severity", "services", "impact",
         "recurrence", "escalated", "close"]

step = st.tuples(st.sampled_from(STEPS), st.integers(min_value=0, max_value=600),
                 st.booleans(), st.integers(min_value=0, max_value=3))
incident = st.fixed_dictionaries({
    "severity": st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4"]),
    "source": st.sampled_from(["monitor", "internal", "customer"]),
    "drill": st.booleans(),
    "impact_before": st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
    "services": st.lists(st.integers(min_value=0, max_value=3), max_size=2),
    "steps": st.lists(step, max_size=10),
})


def _apply(s: Session, runtime: Runtime, inc: Incident, kind: str, arg: int, actor: Principal,
           services: list[int], now: datetime) -> None:
    cfg = runtime.settings
    if kind == "ack":
        incidents.acknowledge(s, incident=inc, actor=actor, now=now, settings=cfg)
    elif kind == "investigate":
        incidents.change_status(s, incident=inc, actor=actor, target=lc.Status.INVESTIGATING,
                                note="", now=now, settings=cfg)
    elif kind == "note":
        incidents.add_entry(s, incident=inc, actor=actor, now=now, settings=cfg,
                            entry=EntryCreate(kind="note", body="looking"))
    elif kind == "resolve":
        incidents.resolve(s, incident=inc, actor=actor, data=ResolveRequest(), now=now,
                          settings=cfg)
    elif kind == "reopen":
        incidents.reopen(s, incident=inc, actor=actor, reason="back", now=now, settings=cfg)
    elif kind == "severity":
        incidents.change_severity(s, incident=inc, actor=actor,
                                  severity=lc.Severity(f"SEV{arg + 1}"), reason="r", now=now,
                                  settings=cfg)
    elif kind == "services":
        incidents.update_fields(s, incident=inc, actor=actor, now=now,
                                data=IncidentUpdate(service_ids=services[:arg]))
    elif kind == "impact":
        incidents.update_fields(s, incident=inc, actor=actor, now=now, data=IncidentUpdate(
            impact_started_at=inc.created_at - timedelta(minutes=arg * 7)))
    elif kind == "recurrence":
        incidents.record_recurrence(s, incident=inc, detail="again", now=now, settings=cfg)
    elif kind == "escalated":
        incidents.append_event(s, inc, kind=lc.EventKind.ESCALATED, now=now, actor=None,
                               data={"level": arg + 1})
    elif kind == "close":
        incidents.close(s, incident=inc, actor=actor, now=now, data=CloseRequest(
            resolution_summary="fixed", users_affected=0, skip_recovery_watch=True,
            reason="done", impact_started_at=inc.created_at - timedelta(minutes=arg),
            impact_ended_at=now))


def _rows(s: Session) -> dict[int, dict[str, Any]]:
    columns = [c for c in summary.values_of(measures.Facts(0, "", START, ""), counted=True)
               if c != "revision"]  # how many changes the hook wrote: not a fact
    return {r.incident_id: {c: getattr(r, c) for c in columns}
            for r in s.scalars(select(IncidentFact))}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(histories=st.lists(incident, min_size=1, max_size=4))
def test_hook_rows_equal_rows_rebuilt_from_the_log(runtime: Runtime, admin: Account,
                                                   histories: list[dict[str, Any]]) -> None:
    actor = Principal(user_id=admin.user.id, role=Role.ADMIN)
    with runtime.sessions() as s, s.begin():
        have = list(s.scalars(select(Service.id)))
        while len(have) < 4:
            have.append(catalog.create_service(s, data=ServiceCreate(
                name=f"svc-{len(have)}"), now=START).id)
            s.flush()
    at = START
    for h in histories:
        at += timedelta(hours=5)
        with runtime.sessions() as s:
            s.begin()
            inc = incidents.declare(s, actor=actor, now=at, settings=runtime.settings,
                                    drill=h["drill"], data=IncidentCreate(
                                        title="generated", severity=lc.Severity(h["severity"]),
                                        detection_source=lc.DetectionSource(h["source"]),
                                        service_ids=[have[i] for i in h["services"]],
                                        impact_started_at=None if h["impact_before"] is None
                                        else at - timedelta(minutes=h["impact_before"])))
            for kind, minutes, new_transaction, arg in h["steps"]:
                at += timedelta(minutes=minutes)
                if new_transaction:
                    s.commit()
                    s.begin()
                    inc = s.get(Incident, inc.id)
                    assert inc is not None
                savepoint = s.begin_nested()
                try:
                    _apply(s, runtime, inc, kind, arg, actor, have, at)
                    savepoint.commit()
                except TocsinError:  # not a legal move from here: nothing of it stays
                    savepoint.rollback()
            s.commit()
    with runtime.sessions() as s:
        kept = _rows(s)
    with runtime.sessions() as s, s.begin():
        summary.rebuild(s)
    with runtime.sessions() as s:
        rebuilt = _rows(s)
    assert kept == rebuilt


def test_metrics_read_from_the_summary_agree_with_each_log_reduced(
        runtime: Runtime, admin: Account) -> None:
    """The slow way, as the benchmark's agreement check: each incident and its whole log
    read on its own, reduced with measures.facts_of."""
    from tests.analytics.history import seed_history

    end = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    seed_history(runtime, end=end, weeks=8, incidents_n=60)
    since, until = end - timedelta(weeks=9), end
    with runtime.sessions() as s:
        fast = queries.load_facts(s, since=since, until=until,
                                  viewer=Principal(user_id=admin.user.id, role=Role.ADMIN))
        slow = []
        # (in order of creation, as load_facts gives a window)
        for inc in s.scalars(select(Incident).where(Incident.drill.is_(False))
                             .order_by(Incident.created_at, Incident.id)):
            log = s.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == inc.id)
                            .order_by(IncidentEvent.id)).all()
            sids = sorted(s.scalars(select(IncidentService.service_id).where(
                IncidentService.incident_id == inc.id)))
            slow.append(measures.facts_of(
                id=inc.id, severity=inc.severity, created_at=inc.created_at,
                source=inc.detection_source, impact_started_at=inc.impact_started_at,
                service_ids=sids, events=[measures.Event(e.at, e.kind, e.data) for e in log]))
    assert len(fast) == 60
    assert [(f.id, f.severity, f.created_at, f.source, f.service_ids, f.impact_started_at,
             f.acknowledged_at, f.first_update_at, f.resolved_at, f.reopened, f.recurred,
             f.escalated) for f in fast] == [
        (f.id, f.severity, f.created_at, f.source, f.service_ids, f.impact_started_at,
         f.acknowledged_at, f.first_update_at, f.resolved_at, f.reopened, f.recurred,
         f.escalated) for f in slow]
    assert measures.summarise("all", fast) == measures.summarise("all", slow)
