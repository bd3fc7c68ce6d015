"""Periodic work for the web app (listed in tocsin/jobs.py)."""

from __future__ import annotations

from tocsin.engine.worker import JobContext
from tocsin.web import service


def purge_sessions(ctx: JobContext) -> int:
    """Delete expired sign-in sessions; they already cannot be used, this keeps the table
    small."""
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        return service.purge_expired(session, now=rt.clock.now())
