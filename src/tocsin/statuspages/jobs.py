"""The worker's status page job: render a page again when what it shows changed."""

from __future__ import annotations

from tocsin.engine.worker import JobContext
from tocsin.statuspages import service
from tocsin.statuspages.models import StatusMaintenanceSeries, StatusPage


def refresh(ctx: JobContext) -> int:
    """Occurrences of recurring maintenance coming within their horizon are announced, and
    maintenance posts move along with their schedule; then incidents opening or ending on
    mapped services, maintenance windows starting, a new day of uptime: compared in a
    read-only snapshot, written only for pages that changed."""
    rt = ctx.runtime
    now, url = rt.clock.now(), rt.settings.public_url
    with rt.read_sessions() as session:
        announcing = service.series_due(session, now=now)
        moving = service.maintenance_due(session, now=now)
    done = 0
    for series_id in announcing:
        with rt.sessions() as session, session.begin():
            series = session.get(StatusMaintenanceSeries, series_id)
            if series is not None:
                done += service.announce_series(session, series=series, now=now, base_url=url)
    if moving:
        with rt.sessions() as session, session.begin():
            done += service.advance_maintenance(session, now=now, base_url=url)
    with rt.read_sessions() as session:
        stale = service.stale_pages(session, now=now, base_url=url)
    for page_id in stale:
        with rt.sessions() as session, session.begin():
            page = session.get(StatusPage, page_id)
            if page is not None:
                done += service.refresh(session, page=page, now=now, base_url=url)
    return done
