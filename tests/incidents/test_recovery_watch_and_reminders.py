"""Timers driven by the incident record: recovery watch, recurrence, update reminders."""

from sqlalchemy import select

from tocsin.clock import FrozenClock
from tocsin.engine.worker import Worker
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service
from tocsin.incidents.models import Incident, IncidentEvent
from tocsin.incidents.schemas import IncidentCreate, ResolveRequest
from tocsin.jobs import JOBS, TIMER_HANDLERS
from tocsin.runtime import Runtime


def _declare(rt: Runtime, severity: str) -> int:
    with rt.sessions() as s, s.begin():
        return service.declare(s, actor=None, data=IncidentCreate(title="t", severity=severity),
                               now=rt.clock.now(), settings=rt.settings).id


def _resolve(rt: Runtime, iid: int) -> None:
    with rt.sessions() as s, s.begin():
        service.resolve(s, incident=s.get_one(Incident, iid), actor=None, data=ResolveRequest(),
                        now=rt.clock.now(), settings=rt.settings)


def _kinds(rt: Runtime, iid: int) -> list[str]:
    with rt.sessions() as s:
        return list(s.scalars(select(IncidentEvent.kind)
                              .where(IncidentEvent.incident_id == iid).order_by(IncidentEvent.id)))


def _run_engine(rt: Runtime) -> None:
    Worker(runtime=rt, jobs=JOBS, handlers=TIMER_HANDLERS, worker_id="t").run_cycle()


def test_recurrence_inside_window_reopens(runtime: Runtime, clock: FrozenClock) -> None:
    iid = _declare(runtime, "SEV2")
    _resolve(runtime, iid)
    clock.advance(minutes=59)
    with runtime.sessions() as s, s.begin():
        inc = s.get_one(Incident, iid)
        assert service.record_recurrence(s, incident=inc, detail="5xx again",
                                         now=clock.now(), settings=runtime.settings)
        assert inc.status == lc.Status.TRIGGERED.value and inc.reopen_count == 1
    assert _kinds(runtime, iid)[-3:] == ["recurrence", "status_changed", "reopened"]


def test_recurrence_after_window_does_not_reopen(runtime: Runtime, clock: FrozenClock) -> None:
    iid = _declare(runtime, "SEV2")
    _resolve(runtime, iid)
    clock.advance(minutes=61)
    with runtime.sessions() as s, s.begin():
        inc = s.get_one(Incident, iid)
        assert not service.record_recurrence(s, incident=inc, detail="again", now=clock.now(),
                                             settings=runtime.settings)
        assert inc.status == lc.Status.RESOLVED.value


def test_recovery_watch_end_is_recorded_by_the_engine(runtime: Runtime,
                                                      clock: FrozenClock) -> None:
    iid = _declare(runtime, "SEV3")
    _resolve(runtime, iid)
    clock.advance(minutes=14)
    _run_engine(runtime)
    assert "recovery_watch_ended" not in _kinds(runtime, iid)
    clock.advance(minutes=2)
    _run_engine(runtime)
    assert _kinds(runtime, iid).count("recovery_watch_ended") == 1


def test_update_reminder_fires_when_no_update_and_repeats(runtime: Runtime,
                                                          clock: FrozenClock) -> None:
    iid = _declare(runtime, "SEV1")  # reminder every 15 min
    clock.advance(minutes=10)
    with runtime.sessions() as s, s.begin():
        # A note at +10 min moves the next reminder to +25 min: the +15 timer only re-arms.
        service.append_event(s, s.get_one(Incident, iid), kind=lc.EventKind.NOTE,
                             now=clock.now(), actor=None, body="looking")
    clock.advance(minutes=6)
    _run_engine(runtime)
    assert _kinds(runtime, iid).count("update_due") == 0
    clock.advance(minutes=10)
    _run_engine(runtime)
    assert _kinds(runtime, iid).count("update_due") == 1
    clock.advance(minutes=16)
    _run_engine(runtime)
    assert _kinds(runtime, iid).count("update_due") == 2


def test_no_reminder_for_low_severity_or_after_resolve(runtime: Runtime,
                                                       clock: FrozenClock) -> None:
    low = _declare(runtime, "SEV4")
    high = _declare(runtime, "SEV2")
    _resolve(runtime, high)
    clock.advance(hours=3)
    _run_engine(runtime)
    assert "update_due" not in _kinds(runtime, low)
    assert "update_due" not in _kinds(runtime, high)
