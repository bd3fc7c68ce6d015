"""The delivery job (listed in tocsin/jobs.py after the timers job). `tocsin serve` and
`tocsin worker` run it in a lane of its own, woken after every commit that wrote messages
(wakeup.delivery_wake), so pages never wait behind a long triage run; tests drive it in
order with the other jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from tocsin.engine.worker import JobContext
from tocsin.notify import channels
from tocsin.notify.models import Message, MessageStatus, VerificationFailure
from tocsin.notify.pipeline import deliver_due

FINISHED = [MessageStatus.SENT.value, MessageStatus.FAILED.value,
            MessageStatus.CANCELLED.value, MessageStatus.DEDUPED.value]
# Rows deleted per transaction: keeps SQLite's write lock short when a backlog is purged.
RETENTION_CHUNK = 2000
_warm = False


def deliver(ctx: JobContext) -> int:
    global _warm
    if not _warm:  # the first run, at worker start: the first page pays no imports
        channels.warm_up()
        _warm = True
    outcomes = deliver_due(ctx.runtime, worker_id=ctx.worker_id,
                           limit=ctx.runtime.settings.worker_batch_size)
    # Rate-limited messages are postponed at claim time and not counted, so a throttled
    # method does not keep the worker spinning.
    return sum(outcomes.values())


def retention(ctx: JobContext) -> int:
    """Delete finished messages last due more than `notify_retention_days` ago, a chunk per
    transaction, and verification failures older than that. Filtering on (status, due_at)
    uses the delivery index; a retried message's due time is its last attempt, so nothing
    recent goes."""
    rt = ctx.runtime
    cutoff = rt.clock.now() - timedelta(days=rt.settings.notify_retention_days)
    total = 0
    while True:
        with rt.sessions() as session, session.begin():
            ids = select(Message.id).where(Message.status.in_(FINISHED),
                                           Message.due_at < cutoff).limit(RETENTION_CHUNK)
            gone = int(session.execute(delete(Message).where(  # type: ignore[attr-defined]
                Message.id.in_(ids.scalar_subquery()))).rowcount or 0)
        total += gone
        if gone < RETENTION_CHUNK:
            break
    # The verification audit trail: at most a few hundred rows per user per day (the
    # attempt limits stop guessers), so one statement is enough.
    with rt.sessions() as session, session.begin():
        total += int(session.execute(delete(VerificationFailure).where(  # type: ignore[attr-defined]
            VerificationFailure.attempted_at < cutoff)).rowcount or 0)
    return total
