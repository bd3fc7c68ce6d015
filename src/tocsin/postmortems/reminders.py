"""When to remind an owner of something due (a post-mortem, an action item). Pure."""

from __future__ import annotations

from datetime import datetime, timedelta


def first_at(due_at: datetime, *, now: datetime, before: timedelta) -> datetime:
    """The first reminder: `before` the due date, or now when that moment has passed."""
    return max(due_at - before, now)


def stage(due_at: datetime, *, now: datetime) -> str:
    return "overdue" if now >= due_at else "due_soon"


def next_at(due_at: datetime, *, now: datetime, every: timedelta) -> datetime:
    """After a reminder at `now`: at the due date if not yet reached, then every `every`."""
    return due_at if now < due_at else now + every
