"""When a notification clock reminds (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tocsin.security.clocks import describe, next_reminder

DUE = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
HOURS = [24, 12, 4, 1]


def test_reminders_before_at_and_after_the_deadline() -> None:
    start = DUE - timedelta(hours=72)
    seen, now = [], start
    while now < DUE + timedelta(days=2):
        now = next_reminder(due_at=DUE, reminder_hours=HOURS, now=now)
        seen.append(now)
    assert [DUE - t for t in seen[:5]] == [timedelta(hours=h) for h in (24, 12, 4, 1, 0)]
    assert seen[5:] == [DUE + timedelta(days=1), DUE + timedelta(days=2)]


@given(st.integers(-500_000, 500_000))
def test_the_next_reminder_is_always_later(offset: int) -> None:
    now = DUE + timedelta(seconds=offset)
    assert next_reminder(due_at=DUE, reminder_hours=HOURS, now=now) > now


def test_words() -> None:
    assert "due in 24 h" in describe(name="GDPR", due_at=DUE, now=DUE - timedelta(hours=24))
    assert "OVERDUE by 2 h" in describe(name="GDPR", due_at=DUE, now=DUE + timedelta(hours=2))
