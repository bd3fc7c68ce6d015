"""Scheduling, cancelling and firing durable timers.

Firing happens inside the claiming transaction: the handler's writes, the timer's `done`
mark and the release of the claim commit together or not at all. A worker killed mid-batch
leaves its timers pending for the next worker, and no timer's effects are applied twice.
On PostgreSQL concurrent workers claim disjoint rows with `FOR UPDATE SKIP LOCKED`; on
SQLite the write transaction (BEGIN IMMEDIATE) serialises workers.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tocsin.db import rows
from tocsin.engine.models import Timer, TimerStatus
from tocsin.settings import Settings

log = logging.getLogger("tocsin.engine")


@dataclass
class TimerContext:
    session: Session
    timer: Timer
    now: datetime
    settings: Settings


TimerHandler = Callable[[TimerContext], None]


class PermanentTimerError(Exception):
    """Raised by a handler when retrying cannot help; the timer is marked failed at once."""


def schedule(
    session: Session,
    *,
    kind: str,
    due_at: datetime,
    now: datetime,
    payload: Mapping[str, Any] | None = None,
    key: str | None = None,
    owner: object | None = None,
) -> None:
    """Create a timer, or with `key` replace the pending timer of that key (generation + 1).
    A new timer is a plain row (db/rows.py): look-ups and cancel later in the transaction
    find it. `owner`: the row the key belongs to (e.g. the
    incident of `incident:<id>:update`); when it was created in this transaction, a timer
    of the key can only be one added in it too, so the look-up is mostly skipped."""
    if key is not None and _may_exist(session, key, owner):
        existing = session.scalars(
            select(Timer).where(Timer.key == key, Timer.status == TimerStatus.PENDING.value)
            .with_for_update()
        ).first()
        if existing is not None:
            existing.due_at = due_at
            existing.kind = kind
            existing.payload = {**(payload or {}), "key": key}
            existing.generation += 1
            existing.attempts = 0
            existing.last_error = None
            return
    values = {"kind": kind, "key": key,
              "payload": {**(payload or {}), **({"key": key} if key else {})},
              "due_at": due_at, "generation": 1, "status": TimerStatus.PENDING.value,
              "attempts": 0, "created_at": now}
    rows.add(session, Timer, **values)


def _may_exist(session: Session, key: str, owner: object | None) -> bool:
    return owner is None or not rows.created_here(session, owner) \
        or rows.created_here(session, Timer, key=key)


def cancel(session: Session, key: str, *, owner: object | None = None) -> bool:
    """Cancel the pending timer with `key`; True if there was one. `owner`: as for
    schedule."""
    if not _may_exist(session, key, owner):
        return False
    result = session.execute(
        update(Timer)
        .where(Timer.key == key, Timer.status == TimerStatus.PENDING.value)
        .values(status=TimerStatus.CANCELLED.value, key=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def pending(session: Session, key: str) -> Timer | None:
    return session.scalars(
        select(Timer).where(Timer.key == key, Timer.status == TimerStatus.PENDING.value)
    ).first()


def seconds_to_next(session: Session, now: datetime,
                    skip_kinds: Collection[str] = ()) -> float | None:
    """Seconds until the earliest pending timer is due (0 or less: overdue); None when
    nothing is pending. Served by the (status, due_at) index. `skip_kinds`: timers another
    job runs."""
    due = session.scalar(select(func.min(Timer.due_at))
                         .where(Timer.status == TimerStatus.PENDING.value,
                                Timer.kind.not_in(skip_kinds)))
    return None if due is None else (due - now).total_seconds()


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** min(attempts, 9)))


@dataclass
class FireResult:
    fired: int = 0
    failed: int = 0
    lateness: list[float] | None = None


def fire_due(
    session: Session,
    *,
    now: datetime,
    handlers: Mapping[str, TimerHandler],
    settings: Settings,
    worker_id: str,
    limit: int,
    on_fired: Callable[[Timer, str, float], None] | None = None,
    skip_kinds: Collection[str] = (),
) -> FireResult:
    """Claim up to `limit` due timers in the caller's transaction and run their handlers.

    The caller commits. Each handler runs in a savepoint, so one failing handler does not
    undo the others. `skip_kinds`: timers another job runs (knownerrors/jobs.py).
    """
    query = (
        select(Timer)
        .where(Timer.status == TimerStatus.PENDING.value, Timer.due_at <= now,
               Timer.kind.not_in(skip_kinds))
        .order_by(Timer.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    result = FireResult()
    for timer in session.scalars(query).all():
        handler = handlers.get(timer.kind)
        lateness = max(0.0, (now - timer.due_at).total_seconds())
        outcome = "done"
        # Release the key before the handler runs, so a handler that schedules the next
        # occurrence of its own key (a repeating reminder) creates a new timer rather than
        # moving this one, which is about to be marked done.
        key, timer.key = timer.key, None
        session.flush()
        try:
            if handler is None:
                raise PermanentTimerError(f"no handler for timer kind '{timer.kind}'")
            with session.begin_nested():
                handler(TimerContext(session=session, timer=timer, now=now, settings=settings))
        except Exception as exc:
            timer.key = key  # the handler's own writes were rolled back with its savepoint
            timer.attempts += 1
            timer.last_error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
            permanent = isinstance(exc, PermanentTimerError)
            if permanent or timer.attempts >= settings.timer_max_attempts:
                timer.status = TimerStatus.FAILED.value
                timer.key = None
                outcome = "failed"
                log.error("timer %s (%s) failed for good: %s", timer.id, timer.kind, exc)
            else:
                timer.due_at = now + _backoff(timer.attempts)
                outcome = "retry"
                log.warning("timer %s (%s) failed, will retry: %s", timer.id, timer.kind, exc)
            result.failed += 1
        else:
            timer.status = TimerStatus.DONE.value
            timer.fired_at = now
            timer.fired_by = worker_id
            result.fired += 1
        if on_fired is not None:
            on_fired(timer, outcome, lateness)
    session.flush()
    return result
