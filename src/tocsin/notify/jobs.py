"""The delivery job (listed in tocsin/jobs.py after the timers job). `tocsin serve` and
`tocsin worker` run it in a lane of its own, woken after every commit that wrote messages
(delivery.delivery_wake) and whenever one of its sends ends, so pages never wait behind a
long triage run nor behind each other (delivery.py); tests drive it in order with the other
jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from tocsin.engine.worker import JobContext
from tocsin.notify import channels
from tocsin.notify.delivery import Delivery
from tocsin.notify.email import pool as smtp_pool
from tocsin.notify.models import Message, MessageStatus, VerificationFailure
from tocsin.notify.ports import PageSuggestions, no_suggestions

FINISHED = [MessageStatus.SENT.value, MessageStatus.FAILED.value,
            MessageStatus.CANCELLED.value, MessageStatus.DEDUPED.value]
# Rows deleted per transaction: keeps SQLite's write lock short when a backlog is purged.
RETENTION_CHUNK = 2000
# When the worker stops, how long sends still in flight may take to end and be recorded
# (seconds); the rest stay leased and are sent again once their lease runs out.
FINISH_SECONDS = 5.0
_warm = False


@dataclass(frozen=True)
class Deliver:
    """`notify.deliver`; `suggestions` (what the first page of an incident lists) is handed
    in by the composition root (tocsin/jobs.py)."""

    suggestions: PageSuggestions = no_suggestions

    def lane(self, ctx: JobContext) -> Delivery:
        """The lane's sends in flight, kept in its context from its first run to `finish`."""
        if not isinstance(ctx.kept, Delivery):
            ctx.kept = Delivery(ctx.runtime, worker_id=ctx.worker_id,
                                suggestions=self.suggestions)
        return ctx.kept

    def __call__(self, ctx: JobContext) -> int:
        """In the lane: record sends that ended, claim and start more, and return at once: 1
        when its claim was full (run again now), else 0 (wait: every send that ends, and
        every commit that writes messages, wakes the lane; a claim with nothing due costs
        the write lock on SQLite). Run directly: also wait until every send started has
        ended and been recorded; returns the outcomes recorded."""
        global _warm
        if not _warm:  # the first run, at worker start: the first page pays no imports
            channels.warm_up()
            _warm = True
        limit = ctx.runtime.settings.worker_batch_size
        # Rate-limited messages are postponed at claim time and not counted, so a throttled
        # method does not keep the worker spinning.
        if ctx.in_lane:
            return int(self.lane(ctx).step(limit=limit, in_lane=True).more)
        return sum(Delivery(ctx.runtime, worker_id=ctx.worker_id,
                            suggestions=self.suggestions).drain(limit=limit).values())

    def finish(self, ctx: JobContext) -> int:
        """When the worker stops: record the lane's sends in flight that end within
        FINISH_SECONDS, claiming nothing new; then say goodbye (QUIT) on idle SMTP
        connections."""
        done = sum(self.lane(ctx).drain(limit=0, claim_more=False,
                                        timeout=FINISH_SECONDS).values())
        smtp_pool.close_all()
        return done


# Without suggestions (notify on its own: tests, tools).
deliver = Deliver()
finish_delivery = deliver.finish


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
