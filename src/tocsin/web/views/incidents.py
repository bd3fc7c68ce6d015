"""Incident list with filters and pagination, and the declare form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.api import pagination
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.schemas import IncidentCreate
from tocsin.limits import whole_number
from tocsin.web import forms, queries
from tocsin.web.auth import Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.guidance import ADVICE, SEVERITY_GUIDE
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
PAGE_SIZE = 50


def _filters(status: str | None, severity: str | None, service: str | None
             ) -> tuple[incidents.ListFilters, dict[str, str]]:
    chosen = {"status": status or "open", "severity": severity or "", "service": service or ""}
    filters = incidents.ListFilters(open_only=chosen["status"] == "open")
    if chosen["status"] in {s.value for s in lc.Status}:
        filters.statuses = [lc.Status(chosen["status"])]
    if chosen["severity"] in {s.value for s in lc.Severity}:
        filters.severities = [lc.Severity(chosen["severity"])]
    filters.service_id = whole_number(chosen["service"])
    return filters, chosen


@router.get("/incidents")
def incident_list(request: Request, session: SessionDep, who: ViewerUser,
                  status: str | None = None, severity: str | None = None,
                  service: str | None = None, cursor: str | None = None) -> Response:
    filters, chosen = _filters(status, severity, service)
    rows, next_before = incidents.list_visible(
        session, viewer=who.principal, filters=filters, before_id=pagination.decode(cursor),
        limit=PAGE_SIZE)
    services = incidents.service_ids_of(session, [i.id for i in rows])
    next_query = None
    if next_before is not None:
        params = {k: v for k, v in chosen.items() if v}
        params["cursor"] = pagination.encode(next_before)
        next_query = urlencode(params)
    return pages_of(request).render(
        request, "incidents/list.html", who, rows=rows, services=services,
        service_names=queries.service_names(session, [s for v in services.values() for s in v]),
        names=queries.user_names(session, [i.commander_id for i in rows]),
        chosen=chosen, statuses=[s.value for s in lc.Status],
        severities=[s.value for s in lc.Severity], all_services=queries.service_choices(session),
        next_query=next_query, first_page=cursor is None)


def _declare_page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
                  errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "incidents/new.html", who, status_code=status_code, values=values,
        errors=errors or {}, guide=SEVERITY_GUIDE, advice=ADVICE,
        services=queries.service_choices(session), users=queries.user_choices(session),
        impacts=[v.value for v in lc.Impact], urgencies=[v.value for v in lc.Urgency],
        systems=[v.value for v in lc.CategorySystem], types=[v.value for v in lc.CategoryType],
        sources=[v.value for v in lc.DetectionSource])


@router.get("/incidents/new")
def declare_form(request: Request, session: SessionDep, who: ResponderUser) -> Response:
    return _declare_page(request, session, who, values={"severity": "", "impact": "medium",
                                                        "urgency": "medium",
                                                        "detection_source": "internal"})


def _values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: forms.text(form, k) for k in (
        "title", "description", "severity", "impact", "urgency", "category_system",
        "category_type", "detection_source", "impact_started_at", "commander_id")}
    values["service_ids"] = forms.ints(form, "service_ids")
    values["restricted"] = forms.checked(form, "restricted")
    return values


@router.post("/incidents/new")
def declare(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
            form: Form) -> Response:
    values = _values(form)
    errors: dict[str, str] = {}
    if not values["severity"]:
        errors["severity"] = "choose a severity; the guidance beside each one helps"
    started = forms.when(form, "impact_started_at", who.user.time_zone, errors)
    commander = forms.optional_int(form, "commander_id", errors)
    try:
        data = forms.build(IncidentCreate, {
            "title": values["title"], "description": values["description"],
            "severity": values["severity"] or "SEV3", "impact": values["impact"] or "medium",
            "urgency": values["urgency"] or "medium",
            "category_system": values["category_system"] or None,
            "category_type": values["category_type"] or None,
            "detection_source": values["detection_source"] or "internal",
            "service_ids": values["service_ids"], "restricted": values["restricted"],
            "impact_started_at": started, "commander_id": commander}, errors)
        incident = incidents.declare(session, actor=who.principal, data=data,
                                     now=rt.clock.now(), settings=rt.settings)
    except forms.FormErrors as exc:
        session.rollback()
        return _declare_page(request, session, who, values=values, errors=exc.errors,
                             status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _declare_page(request, session, who, values=values,
                             errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    return redirect(f"/incidents/{incident.id}", flash=f"{incident.number} declared.")
