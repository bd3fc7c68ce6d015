"""Maintenance windows and silences: alerts still arrive and are recorded, but open no
incident and page nobody while one applies."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.alerts import manage
from tocsin.alerts import service as alerts
from tocsin.alerts.schemas import SilenceIn, WindowIn
from tocsin.alerts.suppress import window_active
from tocsin.alerts.triage_config import window_of
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.limits import Id
from tocsin.runtime import Runtime
from tocsin.web import forms, queries
from tocsin.web.auth import Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
MATCHER_ROWS = 3
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _page(request: Request, session: Session, rt: Runtime, who: WebUser, *,
          values: dict[str, Any], errors: dict[str, str] | None = None, which: str = "",
          status_code: int = 200) -> Response:
    now = rt.clock.now()
    windows = alerts.maintenance_windows(session)
    services = queries.service_choices(session)
    return pages_of(request).render(
        request, "suppression.html", who, status_code=status_code, values=values,
        errors=errors or {}, which=which, windows=windows,
        active={w.id: window_active(window_of(w), now) for w in windows},
        silences=alerts.live_silences(session, now=now), services=services,
        service_names=dict(services), weekdays=WEEKDAYS, rows=range(MATCHER_ROWS),
        names=queries.user_names(session, []))


@router.get("/suppression")
def suppression_page(request: Request, session: SessionDep, rt: RuntimeDep,
                     who: ViewerUser) -> Response:
    return _page(request, session, rt, who, values={"w_time_zone": who.user.time_zone})


@router.post("/suppression/windows")
def create_window(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
                  form: Form) -> Response:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["w_weekdays"] = forms.ints(form, "w_weekdays")
    errors: dict[str, str] = {}
    zone = forms.text(form, "w_time_zone") or "UTC"
    try:
        data = forms.build(WindowIn, {
            "name": forms.text(form, "w_name"),
            "service_id": forms.optional_int(form, "w_service_id", errors),
            "starts_at": forms.when(form, "w_starts_at", zone if zone else "UTC", errors),
            "ends_at": forms.when(form, "w_ends_at", zone if zone else "UTC", errors),
            "weekdays": values["w_weekdays"], "start_time": forms.optional(form, "w_start_time"),
            "duration_minutes": forms.optional_int(form, "w_duration_minutes", errors),
            "time_zone": zone}, errors)
        manage.create_window(session, data=data, now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, forms.FormErrors) else forms.from_domain(exc)
        return _page(request, session, rt, who, values=values, which="window",
                     errors={f"w_{k}" if not k.startswith("w_") and k != "form" else k: v
                             for k, v in found.items()}, status_code=422)
    session.commit()
    return redirect("/suppression", flash="Maintenance window added.")


@router.post("/suppression/windows/{window_id}/delete")
def delete_window(request: Request, window_id: Id, session: SessionDep, who: ResponderUser,
                  form: Form) -> Response:
    alerts.delete_maintenance_window(session, window_id=window_id)
    session.commit()
    return redirect("/suppression", flash="Maintenance window removed.")


@router.post("/suppression/silences")
def create_silence(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
                   form: Form) -> Response:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    matchers = []
    for i in range(MATCHER_ROWS):
        name = forms.text(form, f"m_name_{i}")
        if name:
            matchers.append({"name": name, "value": forms.text(form, f"m_value_{i}"),
                             "is_regex": forms.checked(form, f"m_regex_{i}"),
                             "is_equal": not forms.checked(form, f"m_not_{i}")})
    zone = who.user.time_zone
    try:
        data = forms.build(SilenceIn, {
            "matchers": matchers, "starts_at": forms.when(form, "s_starts_at", zone, errors),
            "ends_at": forms.when(form, "s_ends_at", zone, errors),
            "comment": forms.text(form, "s_comment")}, errors)
        manage.create_silence(session, data=data, author_id=who.user.id, now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, forms.FormErrors) else forms.from_domain(exc)
        renamed = {"matchers": "s_matchers", "ends_at": "s_ends_at", "comment": "s_comment",
                   "starts_at": "s_starts_at", "starts_at/ends_at": "s_ends_at"}
        return _page(request, session, rt, who, values=values, which="silence",
                     errors={renamed.get(k, k): v for k, v in found.items()}, status_code=422)
    session.commit()
    return redirect("/suppression", flash="Silence added.")


@router.post("/suppression/silences/{silence_id}/expire")
def expire_silence(request: Request, silence_id: Id, session: SessionDep, rt: RuntimeDep,
                   who: ResponderUser, form: Form) -> Response:
    manage.expire_silence(session, silence_id=silence_id, now=rt.clock.now())
    session.commit()
    return redirect("/suppression", flash="Silence ended.")
