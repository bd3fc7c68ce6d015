"""The audit log's retention."""

from __future__ import annotations

from tocsin.audit import service
from tocsin.engine.worker import JobContext


def retention(ctx: JobContext) -> int:
    """Delete entries older than `audit_retention_days`."""
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        return service.expire(session, now=rt.clock.now(),
                              keep_days=rt.settings.audit_retention_days)
