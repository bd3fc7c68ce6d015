"""The delivery job (listed in tocsin/jobs.py right after the timers job, so pages written
by an escalation step go out in the same worker cycle)."""

from __future__ import annotations

from tocsin.engine.worker import JobContext
from tocsin.notify.pipeline import deliver_due


def deliver(ctx: JobContext) -> int:
    outcomes = deliver_due(ctx.runtime, worker_id=ctx.worker_id,
                           limit=ctx.runtime.settings.worker_batch_size)
    # Rate-limited messages are postponed at claim time and not counted, so a throttled
    # method does not keep the worker spinning.
    return sum(outcomes.values())
