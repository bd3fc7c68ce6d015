"""Stakeholder updates on the web: an incident's update screen (pick the template, see it
filled from the incident, edit, preview, see the lists it goes to, send or keep a draft;
past updates and the promised next one), and the admin screen for templates and
distribution lists. The same service calls, and so the same permissions, as the API."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.limits import Id
from tocsin.runtime import Runtime
from tocsin.stakeholders import service as stk
from tocsin.stakeholders import templates as tpl
from tocsin.stakeholders.schemas import ListIn, TemplateIn, UpdateIn
from tocsin.web import forms, queries
from tocsin.web.auth import AdminUser, Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
KIND_LABELS = {"initial": "Initial", "progress": "Progress", "resolution": "Resolution"}
TARGET_KINDS = ("email", "webhook", "slack", "teams", "sms", "ntfy", "pushover", "telegram",
                "discord", "apprise")


# ---- on the incident page -------------------------------------------------------------------

def incident_panel(session: Session, who: WebUser, incident: Incident) -> dict[str, Any]:
    """What the incident page shows of stakeholder updates: the promise, misses, the last."""
    cadence, rows = stk.updates_of(session, incident_id=incident.id, viewer=who.principal)
    sent = [u for u in rows if u.sent_at is not None]
    return {"next_update_at": cadence.next_update_at if cadence else None,
            "missed": cadence.missed if cadence else 0, "sent": len(sent),
            "drafts": len(rows) - len(sent), "last": sent[-1] if sent else None}


def _default_kind(incident: Incident, sent: int) -> str:
    if lc.Status(incident.status) not in lc.OPEN_STATUSES:
        return "resolution"
    return "progress" if sent else "initial"


def _screen(request: Request, session: Session, rt: Runtime, who: WebUser, incident_id: int,
            *, kind: str | None = None, values: dict[str, Any] | None = None,
            preview: stk.Composed | None = None, errors: dict[str, str] | None = None,
            status_code: int = 200) -> Response:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who.principal)
    cadence, rows = stk.updates_of(session, incident_id=incident.id, viewer=who.principal)
    now = rt.clock.now()
    chosen = kind if kind in tpl.KINDS else _default_kind(
        incident, sum(1 for u in rows if u.sent_at is not None))
    values = dict(values or {})
    if "body" not in values and who.can("responder"):
        subject, body = stk.editable(session, incident_id=incident.id, viewer=who.principal,
                                     kind=chosen, now=now)
        values.update(subject=subject, body=body)
    return pages_of(request).render(
        request, "stakeholders/update.html", who, status_code=status_code, incident=incident,
        kind=chosen, kinds=KIND_LABELS, values=values, errors=errors or {}, preview=preview,
        lists=stk.lists_for(session, incident), updates=list(reversed(rows)),
        next_update_at=cadence.next_update_at if cadence else None,
        missed=cadence.missed if cadence else 0,
        overdue=bool(cadence and cadence.next_update_at and cadence.next_update_at <= now),
        may_send=stk.may_send(incident, who.principal),
        cadence_minutes=rt.settings.stakeholder_cadence_minutes.get(incident.severity),
        names=queries.user_names(session, [u.author_id for u in rows]))


@router.get("/incidents/{incident_id}/stakeholder-update")
def screen(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
           who: ViewerUser, kind: str | None = None) -> Response:
    return _screen(request, session, rt, who, incident_id, kind=kind)


def _update_values(form: Any, errors: dict[str, str]) -> dict[str, Any]:
    return {"kind": forms.text(form, "kind"), "subject": forms.text(form, "subject"),
            "body": forms.text(form, "body"),
            "next_update_minutes": forms.optional_int(form, "next_update_minutes", errors),
            "draft": forms.text(form, "action") == "draft"}


@router.post("/incidents/{incident_id}/stakeholder-update")
def write(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
          who: ResponderUser, form: Form) -> Response:
    errors: dict[str, str] = {}
    values = _update_values(form, errors)
    if not values["body"]:
        errors["body"] = "an update must say something"
    shown = {**values, "next_update_minutes": forms.text(form, "next_update_minutes")}
    try:
        data = forms.build(UpdateIn, {**values, "subject": values["subject"] or None}, errors)
        if forms.text(form, "action") == "preview":
            made = stk.compose(session, incident_id=incident_id, actor=who.principal,
                               data=data, now=rt.clock.now(), settings=rt.settings)
            return _screen(request, session, rt, who, incident_id, kind=data.kind,
                           values=shown, preview=made)
        row = stk.write_update(session, incident_id=incident_id, actor=who.principal,
                               data=data, now=rt.clock.now(), settings=rt.settings)
    except forms.FormErrors as exc:
        session.rollback()
        return _screen(request, session, rt, who, incident_id, kind=values["kind"],
                       values=shown, errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _screen(request, session, rt, who, incident_id, kind=values["kind"],
                       values=shown, errors=_domain_errors(exc), status_code=exc.status_code)
    session.commit()
    done = ("Draft saved for review." if row.sent_at is None
            else f"Stakeholder update sent to {row.recipients} recipient(s).")
    return redirect(f"/incidents/{incident_id}/stakeholder-update#past-h", flash=done)


def _domain_errors(exc: TocsinError) -> dict[str, str]:
    found = forms.from_domain(exc)
    # The service names the template text as "template"; the form calls it the body.
    return {"body" if k == "template" else k: v for k, v in found.items()}


@router.post("/incidents/{incident_id}/stakeholder-update/{update_id}/send")
def send_draft(request: Request, incident_id: Id, update_id: Id, session: SessionDep,
               rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    try:
        row = stk.get_update(session, incident_id=incident_id, update_id=update_id,
                             viewer=who.principal)
        sent = stk.send(session, update=row, actor=who.principal, now=rt.clock.now(),
                        settings=rt.settings)
    except TocsinError as exc:
        session.rollback()
        return _screen(request, session, rt, who, incident_id, errors={"form": exc.detail},
                       status_code=exc.status_code)
    session.commit()
    return redirect(f"/incidents/{incident_id}/stakeholder-update#past-h",
                    flash=f"Draft sent to {sent} recipient(s).")


# ---- templates and distribution lists (admin) -----------------------------------------------

def _admin(request: Request, session: Session, who: WebUser, *,
           errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
           status_code: int = 200) -> Response:
    templates = {}
    for kind in tpl.KINDS:
        subject, body, default = stk.template(session, kind)
        templates[kind] = {"subject": subject, "body": body, "default": default}
    services = dict(queries.service_choices(session))
    return pages_of(request).render(
        request, "stakeholders/admin.html", who, status_code=status_code, kinds=KIND_LABELS,
        templates=templates, fields=tpl.FIELDS,
        lists=stk.list_lists(session) if who.can("admin") else [],
        service_choices=list(services.items()), service_names=services,
        severities=[s.value for s in lc.Severity], target_kinds=TARGET_KINDS,
        errors=errors or {}, values=values or {})


@router.get("/stakeholders")
def admin_screen(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    return _admin(request, session, who)


@router.post("/stakeholders/templates/{kind}")
def save_template(request: Request, kind: str, session: SessionDep, rt: RuntimeDep,
                  who: AdminUser, form: Form) -> Response:
    values = {"subject": forms.text(form, "subject"), "body": forms.text(form, "body")}
    try:
        stk.save_template(session, kind=kind, data=forms.build(TemplateIn, values),
                          now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, forms.FormErrors) else _domain_errors(exc)
        code = 422 if isinstance(exc, forms.FormErrors) else exc.status_code
        return _admin(request, session, who, errors={f"{kind}-{k}": v for k, v in found.items()},
                      values={kind: values}, status_code=code)
    session.commit()
    return redirect("/stakeholders", flash=f"{KIND_LABELS.get(kind, kind)} template saved.")


def _targets(raw: str, errors: dict[str, str]) -> list[dict[str, str]]:
    """One target a line: `kind address` (e.g. `email ops@example.com`)."""
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        kind, _, address = line.strip().partition(" ")
        if kind not in TARGET_KINDS or not address.strip():
            errors["targets"] = (f"line {n}: write a kind ({', '.join(TARGET_KINDS)}), a "
                                 "space and the address")
            continue
        out.append({"kind": kind, "address": address.strip()})
    return out


@router.post("/stakeholders/lists")
def add_list(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
             form: Form) -> Response:
    errors: dict[str, str] = {}
    raw = forms.text(form, "targets")
    values: dict[str, Any] = {
        "name": forms.text(form, "name"),
        "severities": [v for v in form.getlist("severities") if isinstance(v, str)],
        "service_ids": forms.ints(form, "service_ids"),
        "executive": forms.checked(form, "executive"), "targets": _targets(raw, errors)}
    try:
        row = stk.create_list(session, data=forms.build(ListIn, values, errors),
                              now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, forms.FormErrors) else forms.from_domain(exc)
        code = 422 if isinstance(exc, forms.FormErrors) else exc.status_code
        return _admin(request, session, who, errors=found,
                      values={"list": {**values, "targets": raw}}, status_code=code)
    session.commit()
    return redirect("/stakeholders#lists-h", flash=f"Distribution list {row.name} added.")


@router.post("/stakeholders/lists/{list_id}/delete")
def delete_list(request: Request, list_id: Id, session: SessionDep, who: AdminUser,
                form: Form) -> Response:
    try:
        stk.delete_list(session, list_id=list_id)
    except TocsinError as exc:
        session.rollback()
        return _admin(request, session, who, errors={"form": exc.detail},
                      status_code=exc.status_code)
    session.commit()
    return redirect("/stakeholders#lists-h", flash="Distribution list removed.")
