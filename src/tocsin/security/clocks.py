"""When a notification clock reminds: a number of hours before its deadline, at the
deadline, and then daily while it is overdue. Pure: plain values and `now` in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

OVERDUE_EVERY = timedelta(hours=24)


def next_reminder(*, due_at: datetime, reminder_hours: Sequence[int],
                  now: datetime) -> datetime:
    """The first reminder strictly after `now`."""
    upcoming = sorted(due_at - timedelta(hours=h) for h in {*reminder_hours, 0})
    for at in upcoming:
        if at > now:
            return at
    overdue_for = now - due_at
    periods = overdue_for // OVERDUE_EVERY + 1
    return due_at + periods * OVERDUE_EVERY


def describe(*, name: str, due_at: datetime, now: datetime) -> str:
    left = due_at - now
    if left > timedelta(0):
        hours = left.total_seconds() / 3600
        return f"{name}: notification due in {hours:.0f} h (by {due_at:%Y-%m-%d %H:%M} UTC)"
    hours = -left.total_seconds() / 3600
    return f"{name}: notification OVERDUE by {hours:.0f} h (was due {due_at:%Y-%m-%d %H:%M} UTC)"
