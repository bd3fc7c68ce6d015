"""The incident page: header, close check, timeline, and every action as a small form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.chatops import service as chat
from tocsin.errors import TocsinError
from tocsin.escalation import reachability
from tocsin.escalation import service as escalation
from tocsin.escalation.schemas import PageIn
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.incidents.schemas import (
    CloseRequest,
    EntryCreate,
    ResolveRequest,
    RoleChange,
    SeverityChange,
    StatusChange,
)
from tocsin.limits import Id
from tocsin.respond import service as respond
from tocsin.runtime import Runtime
from tocsin.security import service as security
from tocsin.web import forms, queries
from tocsin.web.auth import Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router
from tocsin.web.views import extras, learning, stakeholders

router = web_router()
ROLE_LABELS = {"commander": "Incident commander", "tech_lead": "Technical lead",
               "comms_lead": "Communications lead"}
# Statuses the plain status form offers; resolving and closing have their own forms because
# they ask for the record (summary, impact, users affected).
_FORM_STATUSES = {lc.Status.ACKNOWLEDGED, lc.Status.INVESTIGATING, lc.Status.IDENTIFIED,
                  lc.Status.MONITORING}


def page_context(session: Session, rt: Runtime, who: WebUser, incident: Incident
                 ) -> dict[str, Any]:
    now = rt.clock.now()
    status = lc.Status(incident.status)
    events = incidents.timeline(session, incident)
    service_ids = incidents.service_ids_of(session, [incident.id])[incident.id]
    people = [incident.commander_id, incident.tech_lead_id, incident.comms_lead_id,
              incident.acknowledged_by_id, incident.reporter_id, *(e.actor_id for e in events)]
    people += [e.data.get("to") for e in events
               if e.kind == "role_changed" and isinstance(e.data.get("to"), int)]
    people += extras.page_recipients(session, who, incident.id)
    tasks = respond.tasks_of(session, incident.id)  # respond: tasks, roles, bridge
    holders = respond.holders_of(session, incident)
    people += [t.assignee_id for t in tasks] + [t.done_by_id for t in tasks]
    people += [h[2] for h in holders]
    return {
        "incident": incident, "status": status.value, "events": list(reversed(events)),
        "names": queries.user_names(session, people),
        "services": queries.service_names(session, service_ids),
        "service_ids": service_ids, "roles": ROLE_LABELS,
        "next_statuses": [s.value for s in lc.legal_next(status) if s in _FORM_STATUSES],
        "is_open": status in lc.OPEN_STATUSES,
        "close_missing": incidents.close_check_of(incident, now=now).in_words
        if status is lc.Status.RESOLVED else [],
        "in_watch": lc.in_recovery_watch(incident.recovery_until, now),
        "severities": [s.value for s in lc.Severity],
        "alerts": extras.incident_alerts(session, who, incident.id),
        "pages": extras.incident_pages(session, who, incident.id),
        "changes": extras.recent_changes(session, incident, service_ids),
        "teams": queries.team_choices(session) if who.can("responder") else [],
        "nobody_paged": reachability.nobody_paged(session, [incident]).get(incident.id, []),
        "learning": learning.incident_context(session, who, incident, now),
        "tasks": tasks, "open_tasks": [t for t in tasks if t.status == "open"],
        "custom_holders": [h for h in holders if not h[3]],
        "role_names": [h[0] for h in holders],
        "security_clocks": security.clocks_of(session, incident.id),
        "chat_channel": chat.channel_of(session, incident.id),
        "stakeholders": stakeholders.incident_panel(session, who, incident),
    }


def _page(request: Request, session: Session, rt: RuntimeDep, who: WebUser,
          incident: Incident, *, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    context = page_context(session, rt, who, incident)
    return pages_of(request).render(
        request, "incidents/detail.html", who, status_code=status_code, errors=errors or {},
        values=values or {}, users=queries.user_choices(session) if who.can("responder")
        else [], **context)


@router.get("/incidents/{incident_id}")
def show(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
         who: ViewerUser) -> Response:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who.principal)
    return _page(request, session, rt, who, incident)


@router.get("/live/incidents/{incident_id}")
def live(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
         who: ViewerUser) -> Response:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who.principal)
    return pages_of(request).render(request, "incidents/_live.html", who,
                                    **page_context(session, rt, who, incident))


Action = Callable[[Session, Incident, FormData, dict[str, str]], str]


def act(request: Request, session: Session, rt: Runtime, who: WebUser, incident_id: Id,
         form: FormData, action: Action) -> Response:
    """Run one action in one transaction; on bad input re-show the page with the messages
    and what was typed, having stored nothing."""
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who.principal,
                                     for_update=True)
    errors: dict[str, str] = {}
    try:
        done = action(session, incident, form, errors)
    except forms.FormErrors as exc:
        errors = exc.errors
    except lc.IllegalTransition as exc:  # before TocsinError, which it is
        errors = {"status": str(exc)}
    except TocsinError as exc:
        errors = forms.from_domain(exc)
        extra_missing = exc.extra.get("missing")
        if extra_missing:
            errors = {"close": "the record still lacks: " + "; ".join(extra_missing)}
    if errors:
        session.rollback()
        incident = incidents.get_visible(session, incident_id=incident_id,
                                         viewer=who.principal)
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        return _page(request, session, rt, who, incident, errors=errors, values=values,
                     status_code=422)
    session.commit()
    return redirect(f"/incidents/{incident_id}#timeline", flash=done)


@router.post("/incidents/{incident_id}/notification-clocks/{clock_id}/notified")
def record_notification(request: Request, incident_id: Id, clock_id: Id, session: SessionDep,
                        rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        clock = security.record_notification(s, incident=inc, clock_id=clock_id,
                                             actor=who.principal, note=forms.text(f, "note"),
                                             now=rt.clock.now())
        return f"{clock.name}: notification recorded."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/acknowledge")
def acknowledge(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
                who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        took = incidents.acknowledge(s, incident=inc, actor=who.principal,
                                     now=rt.clock.now(), settings=rt.settings)
        return "Acknowledged." if took else "Someone is already on it."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/status")
def change_status(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
                  who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        data = forms.build(StatusChange, {"status": forms.text(f, "status"),
                                          "note": forms.text(f, "note")})
        incidents.change_status(s, incident=inc, actor=who.principal, target=data.status,
                                note=data.note, now=rt.clock.now(), settings=rt.settings)
        return f"Status is now {data.status.value}."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/severity")
def change_severity(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
                    who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        data = forms.build(SeverityChange, {"severity": forms.text(f, "severity"),
                                            "reason": forms.text(f, "reason")})
        incidents.change_severity(s, incident=inc, actor=who.principal, severity=data.severity,
                                  reason=data.reason, now=rt.clock.now(), settings=rt.settings)
        return f"Severity is now {data.severity.value}."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/roles")
def assign_role(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
                who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        data = forms.build(RoleChange, {"role": forms.text(f, "role"),
                                        "user_id": forms.optional_int(f, "user_id", errors)},
                           errors)
        incidents.assign_role(s, incident=inc, actor=who.principal, role=data.role,
                              user_id=data.user_id, now=rt.clock.now())
        return f"{ROLE_LABELS[data.role]} updated."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/entries")
def add_entry(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
              who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        kind = forms.text(f, "kind") or "note"
        if kind == "decision" and not forms.text(f, "reason"):
            errors["reason"] = "a decision needs the reason it was taken"
        data = forms.build(EntryCreate, {"kind": kind, "body": forms.text(f, "body"),
                                         "result": forms.optional(f, "result"),
                                         "reason": forms.optional(f, "reason")}, errors)
        incidents.add_entry(s, incident=inc, actor=who.principal, entry=data,
                            now=rt.clock.now(), settings=rt.settings)
        return f"{data.kind.capitalize()} added."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/resolve")
def resolve(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
            who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        users = forms.optional_int(f, "users_affected", errors)
        data = forms.build(ResolveRequest, {
            "resolution_summary": forms.optional(f, "resolution_summary"),
            "users_affected": users}, errors)
        incidents.resolve(s, incident=inc, actor=who.principal, data=data, now=rt.clock.now(),
                          settings=rt.settings)
        return "Resolved; the recovery watch has started."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/close")
def close(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
          who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        zone = who.user.time_zone
        data = forms.build(CloseRequest, {
            "resolution_summary": forms.optional(f, "resolution_summary"),
            "impact_started_at": forms.when(f, "impact_started_at", zone, errors),
            "impact_ended_at": forms.when(f, "impact_ended_at", zone, errors),
            "users_affected": forms.optional_int(f, "users_affected", errors),
            "skip_recovery_watch": forms.checked(f, "skip_recovery_watch"),
            "reason": forms.optional(f, "reason")}, errors)
        incidents.close(s, incident=inc, actor=who.principal, data=data, now=rt.clock.now())
        return "Closed."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/reopen")
def reopen(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
           who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        reason = forms.text(f, "reason")
        if not reason:
            raise forms.FormErrors({"reopen_reason": "say why it is being reopened"})
        incidents.reopen(s, incident=inc, actor=who.principal, reason=reason,
                         now=rt.clock.now(), settings=rt.settings)
        return "Reopened."

    return act(request, session, rt, who, incident_id, form, run)


@router.post("/incidents/{incident_id}/page")
def page_people(request: Request, incident_id: Id, session: SessionDep, rt: RuntimeDep,
                who: ResponderUser, form: Form) -> Response:
    def run(s: Session, inc: Incident, f: FormData, errors: dict[str, str]) -> str:
        data = forms.build(PageIn, {"user_ids": forms.ints(f, "page_user_id"),
                                    "team_id": forms.optional_int(f, "page_team_id", errors),
                                    "note": forms.text(f, "page_note")}, errors)
        paged = escalation.page_on_demand(s, incident=inc, data=data, actor_id=who.user.id,
                                          now=rt.clock.now())
        if not paged:
            return "Nobody could be paged: see the timeline for why."
        return f"Paged {len(paged)} {'person' if len(paged) == 1 else 'people'}."

    return act(request, session, rt, who, incident_id, form, run)
