"""How one ping moves a heartbeat (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.alerts.normalized import EventAction
from tocsin.heartbeats.models import PingKind
from tocsin.heartbeats.state import Applied, Beat, apply_ping

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def beat(status: str = "up", **overrides: object) -> Beat:
    fields: dict[str, object] = {"status": status, "due_at": None, "last_ping_at": None,
                                 "last_start_at": None, "last_duration_ms": None,
                                 "period_seconds": 600, "cron": None, "time_zone": "UTC",
                                 "grace_seconds": 60, **overrides}
    return Beat(**fields)  # type: ignore[arg-type]


def test_exit_codes_are_success_or_failure() -> None:
    assert apply_ping(beat(), PingKind.SUCCESS, 0, NOON) == Applied(PingKind.SUCCESS, None, None)
    b = beat()
    assert apply_ping(b, PingKind.SUCCESS, 7, NOON) == Applied(PingKind.FAIL, None,
                                                               EventAction.TRIGGER)
    assert b.status == "failed" and b.due_at == NOON + timedelta(seconds=660)


def test_a_run_records_its_duration_once() -> None:
    b = beat(last_ping_at=NOON - timedelta(hours=1))
    assert apply_ping(b, PingKind.START, None, NOON).alert is None
    assert b.status == "started" and b.due_at == NOON + timedelta(seconds=60)
    later = NOON + timedelta(seconds=30)
    assert apply_ping(b, PingKind.SUCCESS, None, later).duration_ms == 30_000
    assert apply_ping(b, PingKind.SUCCESS, None, later + timedelta(seconds=5)).duration_ms is None
    assert b.last_duration_ms == 30_000 and b.status == "up"


def test_alerts_only_on_transitions() -> None:
    b = beat("late")
    assert apply_ping(b, PingKind.START, None, NOON).alert is None
    assert b.status == "late"  # a start does not clear an alerting status
    assert apply_ping(b, PingKind.SUCCESS, None, NOON).alert == EventAction.RESOLVE
    assert apply_ping(b, PingKind.FAIL, None, NOON).alert == EventAction.TRIGGER
    assert apply_ping(b, PingKind.FAIL, None, NOON).alert is None
    assert b.moved() == ("failed", NOON + timedelta(seconds=660), NOON, NOON, 0)
