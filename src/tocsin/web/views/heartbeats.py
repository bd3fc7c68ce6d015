"""Heartbeats: list, detail (ping URL, curl examples, last pings), create, edit, pause, delete."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.api import pagination
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import Conflict, TocsinError
from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.models import Heartbeat
from tocsin.heartbeats.schemas import HeartbeatCreate, HeartbeatUpdate
from tocsin.limits import Id
from tocsin.runtime import Runtime
from tocsin.web import forms, queries
from tocsin.web.auth import AdminUser, Form, ViewerUser, WebUser
from tocsin.web.managed import is_managed, refusal
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
PAGE_SIZE = 50
PINGS_SHOWN = 50
FIELDS = ("name", "service_id", "period_seconds", "cron", "time_zone", "grace_seconds")


@router.get("/heartbeats")
def heartbeat_list(request: Request, session: SessionDep, who: ViewerUser,
                   cursor: str | None = None) -> Response:
    rows = heartbeats.list_heartbeats(session, after_id=pagination.decode(cursor),
                                      limit=PAGE_SIZE + 1)
    next_cursor = pagination.encode(rows[PAGE_SIZE - 1].id) if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    return pages_of(request).render(
        request, "heartbeats/list.html", who, rows=rows, next_cursor=next_cursor,
        first_page=cursor is None,
        service_names=queries.service_names(session, [h.service_id for h in rows]))


def curl_examples(url: str) -> dict[str, str]:
    return {"success": f"curl -fsS -m 10 --retry 5 -o /dev/null {url}",
            "start": f"curl -fsS -m 10 --retry 5 -o /dev/null {url}/start",
            "fail": f"curl -fsS -m 10 --retry 5 -o /dev/null {url}/fail",
            "a job's exit code, with its output as the body":
                f"output=$(your-job 2>&1); curl -fsS -m 10 --retry 5 -o /dev/null "
                f"--data-raw \"$output\" {url}/$?"}


@router.get("/heartbeats/new")
def new_form(request: Request, session: SessionDep, who: AdminUser) -> Response:
    return _form_page(request, session, who, heartbeat_id=None,
                      values={"time_zone": who.user.time_zone, "grace_seconds": "300",
                              "period_seconds": "3600"})


@router.get("/heartbeats/{heartbeat_id}")
def heartbeat_detail(request: Request, heartbeat_id: Id, session: SessionDep, rt: RuntimeDep,
                     who: ViewerUser) -> Response:
    return _detail_page(request, session, rt, who, heartbeats.get_heartbeat(session,
                                                                            heartbeat_id))


def _detail_page(request: Request, session: Session, rt: Runtime, who: WebUser, hb: Heartbeat,
                 *, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    out = heartbeats.to_out(hb, rt.settings)
    return pages_of(request).render(
        request, "heartbeats/detail.html", who, status_code=status_code, errors=errors or {},
        hb=out, examples=curl_examples(out.ping_url),
        service_name=queries.service_names(session, [hb.service_id]).get(hb.service_id),
        pings=heartbeats.recent_pings(session, hb, limit=PINGS_SHOWN),
        body_cap=rt.settings.heartbeat_body_max_bytes,
        managed=is_managed(session, "heartbeat", hb.id))


def _form_page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
               heartbeat_id: Id | None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "heartbeats/form.html", who, status_code=status_code, values=values,
        errors=errors or {}, heartbeat_id=heartbeat_id, services=queries.service_choices(session),
        managed=is_managed(session, "heartbeat", heartbeat_id))


def _values(form: FormData) -> dict[str, Any]:
    return {k: forms.text(form, k) for k in FIELDS}


def _payload(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    if not values["service_id"]:
        errors["service_id"] = "choose a service"
    body: dict[str, Any] = {k: values[k] or None for k in FIELDS}
    body["time_zone"] = values["time_zone"] or "UTC"
    if not values["grace_seconds"]:
        body.pop("grace_seconds")
    return body


def domain_errors(exc: TocsinError) -> dict[str, str]:
    """The service's message beside the field it is about."""
    detail = exc.detail
    if isinstance(exc, Conflict):
        return {"name": detail}
    if detail.startswith("period_seconds: "):
        return {"period_seconds": detail.removeprefix("period_seconds: ")}
    if "time zone" in detail:
        return {"time_zone": detail}
    if "cron" in detail and "either" not in detail:
        return {"cron": detail}
    return {"form": detail}


def _save(request: Request, session: Session, rt: Runtime, who: WebUser, form: FormData,
          hb: Heartbeat | None) -> Response:
    """Create a heartbeat (`hb` None) or change one from its posted form."""
    heartbeat_id = hb.id if hb else None
    values = _values(form)
    refused = refusal(session, form, kind="heartbeat", local_id=heartbeat_id, noun="heartbeat")
    if refused:
        return _form_page(request, session, who, values=values, heartbeat_id=heartbeat_id,
                          errors=refused, status_code=409)
    errors: dict[str, str] = {}
    body = _payload(values, errors)
    try:
        if hb is None:
            hb = heartbeats.create_heartbeat(session, data=forms.build(HeartbeatCreate, body,
                                                                       errors),
                                             now=rt.clock.now(), settings=rt.settings)
        else:
            heartbeats.update_heartbeat(session, hb=hb, data=forms.build(HeartbeatUpdate, body,
                                                                         errors),
                                        now=rt.clock.now(), settings=rt.settings)
            session.flush()
    except forms.FormErrors as exc:
        session.rollback()
        return _form_page(request, session, who, values=values, heartbeat_id=heartbeat_id,
                          errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _form_page(request, session, who, values=values, heartbeat_id=heartbeat_id,
                          errors=domain_errors(exc), status_code=exc.status_code)
    session.commit()
    return redirect(f"/heartbeats/{hb.id}",
                    flash=f"Heartbeat {hb.name} {'saved' if heartbeat_id else 'created'}.")


@router.post("/heartbeats/new")
def create(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
           form: Form) -> Response:
    return _save(request, session, rt, who, form, None)


def _edit_values(hb: Heartbeat) -> dict[str, Any]:
    return {"name": hb.name, "service_id": str(hb.service_id),
            "period_seconds": str(hb.period_seconds or ""), "cron": hb.cron or "",
            "time_zone": hb.time_zone, "grace_seconds": str(hb.grace_seconds)}


@router.get("/heartbeats/{heartbeat_id}/edit")
def edit_form(request: Request, heartbeat_id: Id, session: SessionDep,
              who: AdminUser) -> Response:
    hb = heartbeats.get_heartbeat(session, heartbeat_id)
    return _form_page(request, session, who, values=_edit_values(hb), heartbeat_id=hb.id)


@router.post("/heartbeats/{heartbeat_id}/edit")
def update(request: Request, heartbeat_id: Id, session: SessionDep, rt: RuntimeDep,
           who: AdminUser, form: Form) -> Response:
    return _save(request, session, rt, who, form, heartbeats.get_heartbeat(session, heartbeat_id))


def _set_paused(session: Session, rt: RuntimeDep, heartbeat_id: Id, paused: bool) -> Response:
    hb = heartbeats.get_heartbeat(session, heartbeat_id)
    heartbeats.update_heartbeat(session, hb=hb, data=HeartbeatUpdate(paused=paused),
                                now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return redirect(f"/heartbeats/{heartbeat_id}",
                    flash=f"Heartbeat {hb.name} {'paused' if paused else 'resumed'}.")


@router.post("/heartbeats/{heartbeat_id}/pause")
def pause(heartbeat_id: Id, session: SessionDep, rt: RuntimeDep, who: AdminUser,
          form: Form) -> Response:
    return _set_paused(session, rt, heartbeat_id, True)


@router.post("/heartbeats/{heartbeat_id}/resume")
def resume(heartbeat_id: Id, session: SessionDep, rt: RuntimeDep, who: AdminUser,
           form: Form) -> Response:
    return _set_paused(session, rt, heartbeat_id, False)


@router.post("/heartbeats/{heartbeat_id}/delete")
def delete(request: Request, heartbeat_id: Id, session: SessionDep, rt: RuntimeDep,
           who: AdminUser, form: Form) -> Response:
    hb = heartbeats.get_heartbeat(session, heartbeat_id)
    if is_managed(session, "heartbeat", hb.id) and not forms.checked(form, "edit_managed"):
        return _detail_page(request, session, rt, who, hb, status_code=409, errors={
            "delete_managed": "This heartbeat is managed by code: tick the box to delete it "
                              "by hand anyway (the next apply makes it again), or change the "
                              "file."})
    name = hb.name
    heartbeats.delete_heartbeat(session, hb)
    session.commit()
    return redirect("/heartbeats", flash=f"Heartbeat {name} deleted.")
