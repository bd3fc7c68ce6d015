"""Periodic job of heartbeats (listed in tocsin/jobs.py)."""

from __future__ import annotations

from tocsin.engine.worker import JobContext
from tocsin.heartbeats import service


def heartbeats_late(ctx: JobContext) -> int:
    """Mark heartbeats whose ping is overdue late (raising their alerts)."""
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        return service.mark_late(session, now=rt.clock.now(), settings=rt.settings)
