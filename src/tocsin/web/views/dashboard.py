"""The dashboard: open incidents by severity, with a fragment the page polls for updates."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.escalation import reachability
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.runtime import Runtime
from tocsin.web import queries
from tocsin.web.auth import ViewerUser, WebUser
from tocsin.web.render import pages_of
from tocsin.web.routing import web_router
from tocsin.web.views import extras, setup

router = web_router()
# More open incidents than this is its own emergency; the page links to the full list.
DASHBOARD_LIMIT = 500


def dashboard_context(session: Session, rt: Runtime, who: WebUser) -> dict[str, Any]:
    rows, more = incidents.list_visible(
        session, viewer=who.principal, filters=incidents.ListFilters(open_only=True),
        before_id=None, limit=DASHBOARD_LIMIT)
    services = incidents.service_ids_of(session, [i.id for i in rows])
    names = queries.user_names(session, [i.acknowledged_by_id for i in rows]
                               + [i.commander_id for i in rows])
    service_names = queries.service_names(session, [s for ids in services.values() for s in ids])
    by_severity: dict[str, list[Any]] = {s.value: [] for s in lc.Severity}
    for incident in rows:
        by_severity[incident.severity].append(incident)
    return {"by_severity": by_severity, "services": services, "names": names,
            "service_names": service_names, "more": more is not None,
            "open_count": len(rows), "oncall": extras.my_oncall(session, rt, who),
            "recent_alerts": extras.recent_alerts(session, who),
            "nobody_paged": reachability.nobody_paged(session, rows),
            "setup": setup.setup_context(session, rt, who)}


@router.get("/")
def dashboard(request: Request, session: SessionDep, rt: RuntimeDep, who: ViewerUser) -> Response:
    return pages_of(request).render(request, "dashboard.html", who,
                                    **dashboard_context(session, rt, who))


@router.get("/live/dashboard")
def dashboard_live(request: Request, session: SessionDep, rt: RuntimeDep,
                   who: ViewerUser) -> Response:
    return pages_of(request).render(request, "_dashboard_live.html", who,
                                    **dashboard_context(session, rt, who))
