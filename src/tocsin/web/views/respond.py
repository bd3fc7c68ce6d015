"""Respond on the web: incident tasks, role handoffs, other roles and the bridge (actions on
the incident page); checklist templates and roles (/respond); event webhooks (/webhooks)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.incidents.models import Incident
from tocsin.limits import Id
from tocsin.respond import service as respond
from tocsin.respond.schemas import (
    Handoff,
    RoleCreate,
    RoleTake,
    TaskCreate,
    TaskUpdate,
    TemplateCreate,
)
from tocsin.web import forms, queries
from tocsin.web.auth import AdminUser, Form, ResponderUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router
from tocsin.web.views.incident_page import act
from tocsin.webhooks import service as webhooks
from tocsin.webhooks.schemas import SubscriptionCreate

router = web_router()


@router.post("/incidents/{incident_id}/tasks")
def add_task(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
             who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        data = forms.build(TaskCreate, {
            "title": forms.text(f, "title"),
            "assignee_id": forms.optional_int(f, "assignee_id", errors)}, errors)
        respond.add_task(s, incident=inc, actor=who.principal, data=data, now=rt.clock.now())
        return "Task added."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/tasks/{task_id}/done")
def task_done(request: Request, incident_id: Id, task_id: Id, session: SessionDep,
              rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        task = respond.get_task(s, incident=inc, task_id=task_id)
        respond.update_task(s, incident=inc, task=task, actor=who.principal,
                            data=TaskUpdate(done=True), now=rt.clock.now())
        return f"Done: {task.title}."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/handoff")
def hand_off(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
             who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        data = forms.build(Handoff, {
            "role": forms.text(f, "role"), "note": forms.text(f, "note"),
            "to_user_id": forms.optional_int(f, "to_user_id", errors)}, errors)
        described = respond.hand_off(s, incident=inc, actor=who.principal, role=data.role,
                                     to_user_id=data.to_user_id, note=data.note,
                                     now=rt.clock.now())
        return f"{data.role} handed over. {described}"

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/responders")
def take_role(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
              who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        data = forms.build(RoleTake, {
            "role": forms.text(f, "role"),
            "user_id": forms.optional_int(f, "user_id", errors)}, errors)
        described = respond.take_role(s, incident=inc, actor=who.principal, role=data.role,
                                      user_id=data.user_id, now=rt.clock.now())
        return f"{data.role} updated. {described}"

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/bridge")
def set_bridge(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
               who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        url = respond.set_bridge(s, incident=inc, actor=who.principal,
                                 url=forms.optional(f, "url"), now=rt.clock.now(),
                                 settings=rt.settings)
        return f"Bridge: {url}"

    return act(request, session, rt, who, incident_id, form, run)


# ---- /respond: checklist templates and roles ------------------------------------------------

def _respond_page(request: Request, session: Session, who: WebUser, *,
                  errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "respond/admin.html", who, status_code=status_code, errors=errors or {},
        templates=respond.list_templates(session), roles=respond.list_roles(session),
        built_in=respond.BUILT_IN_ROLES, services=queries.service_choices(session))


@router.get("/respond")
def respond_page(request: Request, session: SessionDep, who: AdminUser) -> Response:
    return _respond_page(request, session, who)


@router.post("/respond/checklists")
def create_template(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
                    form: Form) -> Response:
    errors: dict[str, str] = {}
    try:
        data = forms.build(TemplateCreate, {
            "name": forms.text(form, "name"), "severity": forms.optional(form, "severity"),
            "service_id": forms.optional_int(form, "service_id", errors),
            "items": [line.strip() for line in forms.text(form, "items").splitlines()
                      if line.strip()]}, errors)
        respond.create_template(session, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        errors = exc.errors
    except TocsinError as exc:
        errors = forms.from_domain(exc)
    if errors:
        session.rollback()
        return _respond_page(request, session, who, errors=errors, status_code=422)
    session.commit()
    return redirect("/respond", flash="Checklist saved.")


@router.post("/respond/roles")
def create_role(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
                form: Form) -> Response:
    errors: dict[str, str] = {}
    try:
        data = forms.build(RoleCreate, {"name": forms.text(form, "name"),
                                        "description": forms.text(form, "description")})
        respond.create_role(session, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        errors = exc.errors
    except TocsinError as exc:
        errors = forms.from_domain(exc)
    if errors:
        session.rollback()
        return _respond_page(request, session, who, errors=errors, status_code=422)
    session.commit()
    return redirect("/respond", flash="Role saved.")


# ---- /webhooks: subscriptions, send test, delivery log --------------------------------------

def _webhooks_page(request: Request, session: Session, who: WebUser, *,
                   errors: dict[str, str] | None = None, secret: str | None = None,
                   status_code: int = 200) -> Response:
    subs = webhooks.list_subscriptions(session)
    return pages_of(request).render(
        request, "respond/webhooks.html", who, status_code=status_code, errors=errors or {},
        subs=subs, secret=secret,
        logs={s.id: webhooks.deliveries_of(session, sub=s, limit=10) for s in subs})


@router.get("/webhooks")
def webhooks_page(request: Request, session: SessionDep, who: AdminUser) -> Response:
    return _webhooks_page(request, session, who)


@router.post("/webhooks")
def create_subscription(request: Request, session: SessionDep, rt: RuntimeDep,
                        who: AdminUser, form: Form) -> Response:
    errors: dict[str, str] = {}
    secret = None
    try:
        data = forms.build(SubscriptionCreate, {
            "name": forms.text(form, "name"), "url": forms.text(form, "url"),
            "event_types": form.getlist("event_types"),
            "severities": form.getlist("severities"),
            "include_drills": form.get("include_drills") == "on"})
        sub = webhooks.create_subscription(session, data=data, now=rt.clock.now(),
                                           settings=rt.settings)
        secret = sub.secret
    except forms.FormErrors as exc:
        errors = exc.errors
    except TocsinError as exc:
        errors = forms.from_domain(exc)
    if errors:
        session.rollback()
        return _webhooks_page(request, session, who, errors=errors, status_code=422)
    session.commit()
    # The secret is shown once, on this answer (not in a redirect's cookie).
    return _webhooks_page(request, session, who, secret=secret, status_code=201)


@router.post("/webhooks/{subscription_id}/test")
def send_test(request: Request, subscription_id: Id, session: SessionDep, rt: RuntimeDep,
              who: AdminUser, form: Form) -> Response:
    webhooks.send_test(session, sub=webhooks.get_subscription(session, subscription_id),
                       now=rt.clock.now())
    session.commit()
    return redirect("/webhooks", flash="Test event queued.")
