"""The weekly digest job: on the configured weekday, from 08:00 UTC, once per team a week."""

from __future__ import annotations

from tocsin.analytics import service
from tocsin.engine.worker import JobContext

DIGEST_HOUR = 8


def weekly_digest(ctx: JobContext) -> int:
    rt = ctx.runtime
    settings = rt.settings
    now = rt.clock.now()
    if (not settings.analytics_digest_enabled or now.weekday() != settings.analytics_digest_weekday
            or now.hour < DIGEST_HOUR):
        return 0
    with rt.sessions() as session, session.begin():
        return service.send_digests(session, now=now, base_url=settings.public_url,
                                    per_shift_limit=settings.analytics_pages_per_shift)
