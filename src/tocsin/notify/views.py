"""Acknowledge from anywhere: the signed link in a page, and an inbound SMS webhook."""

from __future__ import annotations

import html
import re
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import Forbidden, Invalid, NotFound, TocsinError
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.limits import Id
from tocsin.notify.links import read_ack_token
from tocsin.notify.models import ContactMethod
from tocsin.notify.service import use_ack_link
from tocsin.notify.webhook.sender import verify as verify_signature
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime

router = APIRouter(include_in_schema=True, tags=["acknowledge"])
SMS_ACK = re.compile(r"^\s*(?:ack|a|4)(?:\s+(?:inc-)?(\d+))?\s*$", re.IGNORECASE)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset=utf-8><meta name=viewport "
        f"content='width=device-width'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:30em;margin:2em auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>", status_code=status)


def _principal(session: Session, user_id: Id) -> Principal:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Forbidden("the person this page was sent to can no longer acknowledge")
    role = Role(user.role)
    if not role.allows(Role.RESPONDER):
        raise Forbidden("viewers cannot acknowledge incidents")
    return Principal(user_id=user.id, role=role)


def _ack(session: Session, rt: Runtime, incident_id: Id, user_id: Id) -> tuple[Incident, bool]:
    who = _principal(session, user_id)
    incident = session.scalars(select(Incident).where(Incident.id == incident_id)
                               .with_for_update()).first()
    if incident is None:
        raise NotFound(f"incident INC-{incident_id} no longer exists")
    try:
        changed = incidents.acknowledge(session, incident=incident, actor=who,
                                        now=rt.clock.now(), settings=rt.settings)
    except Exception as exc:  # resolved/closed: nothing to acknowledge
        raise Invalid(f"{incident.number} is {incident.status}: {exc}") from None
    session.commit()
    return incident, changed


@router.get("/ack/{token}", response_class=HTMLResponse, include_in_schema=False)
def confirm(token: str, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    # GET only shows a form: mail scanners that prefetch links must not acknowledge.
    try:
        incident_id, _user = read_ack_token(rt.settings.secret(), token, now=rt.clock.now())
    except TocsinError as exc:
        return _page("Link not valid", f"<p>{html.escape(exc.detail)}</p>", 400)
    incident = session.get(Incident, incident_id)
    if incident is None:
        return _page("Not found", "<p>This incident no longer exists.</p>", 404)
    return _page(f"Acknowledge {incident.number}?",
                 f"<p>[{incident.severity}] {html.escape(incident.title)} — status "
                 f"<b>{incident.status}</b></p><form method=post><button type=submit "
                 f"style='font-size:1.5em'>Acknowledge</button></form>")


@router.post("/ack/{token}", response_class=HTMLResponse, include_in_schema=False)
def acknowledge(token: str, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    try:
        incident_id, user_id = read_ack_token(rt.settings.secret(), token, now=rt.clock.now())
        use_ack_link(session, token=token, incident_id=incident_id, now=rt.clock.now())
        incident, changed = _ack(session, rt, incident_id, user_id)
    except TocsinError as exc:
        return _page("Not acknowledged", f"<p>{html.escape(exc.detail)}</p>", exc.status_code)
    note = "Escalation stopped." if changed else f"It was already {incident.status}."
    return _page(f"{incident.number} acknowledged", f"<p>{note}</p>")


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _sms_owner(session: Session, sender: str) -> int | None:
    """The owner of the verified SMS method whose Apprise URL ends in the sender's number."""
    number = _digits(sender)
    if len(number) < 6:
        return None
    for user_id, address in session.execute(select(
            ContactMethod.user_id, ContactMethod.address).where(
            ContactMethod.kind == "sms", ContactMethod.verified_at.is_not(None))).all():
        target = address.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        if _digits(target).endswith(number) or number.endswith(_digits(target) or "x"):
            return int(user_id)
    return None


@router.post("/inbound/sms", response_class=PlainTextResponse,
             summary="Inbound SMS webhook (provider-style form: From, Body)")
async def inbound_sms(request: Request, rt: RuntimeDep,
                      signature: Annotated[str | None, Header(alias="X-Tocsin-Signature")] = None,
                      ) -> PlainTextResponse:
    """A reply `ACK 42` (or `4 42`) from a verified SMS contact method acknowledges INC-42.
    The provider (or a small relay in front of it) signs the raw body with
    TOCSIN_INBOUND_SMS_SECRET."""
    secret = rt.settings.inbound_sms_secret
    if secret is None:
        raise NotFound("inbound SMS is not configured")
    raw = await request.body()
    if not signature or not verify_signature(raw, signature, secret.get_secret_value()):
        raise Forbidden("bad or missing X-Tocsin-Signature")
    form = await request.form()
    sender, text = str(form.get("From", "")).strip(), str(form.get("Body", ""))
    match = SMS_ACK.match(text)
    if not sender or match is None or match.group(1) is None:
        return PlainTextResponse("Reply ACK <incident number>, e.g. ACK 42.")
    with rt.sessions() as session:
        user_id = _sms_owner(session, sender)
        if user_id is None:
            return PlainTextResponse("This number is not a verified Tocsin contact method.")
        try:
            incident, changed = _ack(session, rt, int(match.group(1)), user_id)
        except TocsinError as exc:
            return PlainTextResponse(f"Not acknowledged: {exc.detail}")
    return PlainTextResponse(f"{incident.number} acknowledged." if changed
                             else f"{incident.number} was already {incident.status}.")
