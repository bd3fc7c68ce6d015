"""One check: status per location, latest results, uptime, response-time chart, its alert and
incidents; run now, edit, pause, resume and delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.checks import service as checks
from tocsin.checks.models import Check
from tocsin.checks.rollup import hour_start
from tocsin.checks.schemas import CheckUpdate
from tocsin.checks.secrets import public_config
from tocsin.errors import NotFound
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.limits import Id
from tocsin.web import chart, check_forms, check_queries, queries
from tocsin.web.auth import AdminUser, Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router
from tocsin.web.views.checks import form_page, save

router = web_router()
RANGES = {"24h": 24, "7d": 168}
RESULTS_SHOWN = 20


def _open_incidents(session: Session, who: WebUser, alert_id: Id) -> list[Incident]:
    """Open incidents this check's alert joined that `who` may see (restricted ones hide)."""
    found = []
    for incident_id in check_queries.incident_ids_of(session, alert_id)[:20]:
        try:
            incident = incidents.get_visible(session, incident_id=incident_id,
                                             viewer=who.principal)
        except NotFound:
            continue
        if lc.Status(incident.status) in lc.OPEN_STATUSES:
            found.append(incident)
    return found


@router.get("/checks/{check_id}")
def check_detail(request: Request, check_id: Id, session: SessionDep, rt: RuntimeDep,
                 who: ViewerUser,
                 chosen: Annotated[str, Query(alias="range")] = "24h") -> Response:
    check = checks.get_check(session, check_id)
    now = rt.clock.now()
    span = chosen if chosen in RANGES else "24h"
    first_hour = hour_start(now) - timedelta(hours=RANGES[span] - 1)
    hours = check_queries.hourly_latency(session, check_id, since=first_hour)
    alert = check_queries.alert_of(session, check, who.principal)
    return pages_of(request).render(
        request, "checks/detail.html", who, check=check, span=span, ranges=list(RANGES),
        target=check_queries.target_of(check.kind, check.config),
        config=public_config(check.config),
        service_name=queries.service_names(session, [check.service_id]).get(check.service_id),
        locations=check_queries.location_rows(session, check),
        uptimes=check_queries.uptimes(session, check_id, now),
        chart=chart.latency_chart(hours, first_hour=first_hour, count=RANGES[span],
                                  zone=who.user.time_zone),
        hours=hours, results=checks.latest_results(session, check_id, limit=RESULTS_SHOWN),
        alert=alert, open_incidents=_open_incidents(session, who, alert.id) if alert else [])


def _edit_values(check: Check) -> dict[str, object]:
    values: dict[str, object] = {
        "kind": check.kind, "name": check.name, "service_id": str(check.service_id),
        "interval_seconds": str(check.interval_seconds),
        "timeout_seconds": f"{check.timeout_seconds:g}", "locations": ", ".join(check.locations),
        "confirm_failures": str(check.confirm_failures),
        "confirm_locations": str(check.confirm_locations or ""), "enabled": check.enabled}
    values.update(check_forms.config_values(check.kind, check.config))
    return values


@router.get("/checks/{check_id}/edit")
def edit_form(request: Request, check_id: Id, session: SessionDep, who: AdminUser) -> Response:
    check = checks.get_check(session, check_id)
    return form_page(request, session, who, values=_edit_values(check), check_id=check_id)


@router.post("/checks/{check_id}/edit")
def update(request: Request, check_id: Id, session: SessionDep, rt: RuntimeDep,
           who: AdminUser, form: Form) -> Response:
    return save(request, session, rt, who, form, checks.get_check(session, check_id))


def _set_enabled(session: Session, rt: RuntimeDep, check_id: Id, enabled: bool) -> Response:
    check = checks.get_check(session, check_id)
    checks.update_check(session, check=check, data=CheckUpdate(enabled=enabled),
                        now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return redirect(f"/checks/{check_id}",
                    flash=f"Check {check.name} {'resumed' if enabled else 'paused'}.")


@router.post("/checks/{check_id}/pause")
def pause(check_id: Id, session: SessionDep, rt: RuntimeDep, who: AdminUser,
          form: Form) -> Response:
    return _set_enabled(session, rt, check_id, False)


@router.post("/checks/{check_id}/resume")
def resume(check_id: Id, session: SessionDep, rt: RuntimeDep, who: AdminUser,
           form: Form) -> Response:
    return _set_enabled(session, rt, check_id, True)


@router.post("/checks/{check_id}/run")
def run_now(check_id: Id, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
            form: Form) -> Response:
    check = checks.get_check(session, check_id)
    scheduled = checks.request_run(session, check=check, now=rt.clock.now(),
                                   settings=rt.settings)
    session.commit()
    where = ["this server"] if scheduled.server else []
    if scheduled.probes:
        where.append(f"probe(s) {', '.join(scheduled.probes)} at their next pull")
    return redirect(f"/checks/{check_id}#results-h",
                    flash=f"Run of {check.name} scheduled ({'; '.join(where)}); "
                    "refresh in a few seconds for the result.")


@router.post("/checks/{check_id}/delete")
def delete(check_id: Id, session: SessionDep, rt: RuntimeDep, who: AdminUser,
           form: Form) -> Response:
    check = checks.get_check(session, check_id)
    name = check.name
    checks.delete_check(session, check, now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return redirect("/checks", flash=f"Check {name} deleted.")
