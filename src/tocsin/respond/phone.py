"""Acknowledge by voice (Twilio) and by email reply, through Tocsin's signed ack tokens.

Voice: a call placed for a page points Twilio at `/inbound/twilio/voice?t=<ack token>`.
Tocsin answers TwiML that reads the incident's number, severity and title and gathers one
key: 1 acknowledges (as the person the token names), 2 moves escalation to its next level
now. Every request must carry a valid `X-Twilio-Signature` (checked with the `twilio`
library's RequestValidator over the public URL and the form): a forged or unsigned one gets
401 and changes nothing. A token acknowledges once (notify.service.use_ack_link).

Email: an inbound-mail webhook in Mailgun's shape (`recipient`, `body-plain` /
`stripped-text`, `timestamp`, `token`, `signature`) posts the reply. The webhook is signed
(HMAC-SHA256 of timestamp+token under the signing key), and the reply address itself,
`ack+<ack token>@<reply_domain>`, names the incident and the person, signed by Tocsin.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from tocsin.accounts.models import User
from tocsin.api.deps import RuntimeDep
from tocsin.engine import timers
from tocsin.errors import Conflict, Forbidden, Invalid, NotFound, TocsinError, Unauthorized
from tocsin.escalation import service as escalation
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.notify import service as notify
from tocsin.notify.links import read_ack_token
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime

router = APIRouter(tags=["acknowledge"])
TWIML = "application/xml"
REPLY_ACK = re.compile(r"^\s*(ack|acknowledge|a|1)\b", re.IGNORECASE)
# A Mailgun webhook older than this is refused (replayed).
MAIL_WINDOW = timedelta(minutes=15)


async def _twilio_form(request: Request, rt: Runtime) -> dict[str, str]:
    """The form of a Twilio request whose signature is valid; Unauthorized otherwise."""
    token = rt.settings.twilio_auth_token
    if token is None:
        raise NotFound("Twilio voice is not configured")
    form = {k: str(v) for k, v in (await request.form()).items()}
    url = rt.settings.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(token.get_secret_value()).validate(
            url, form, signature):
        raise Unauthorized("bad or missing X-Twilio-Signature")
    return form


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), media_type=TWIML)


def _say(text: str) -> Response:
    response = VoiceResponse()
    response.say(text)
    return _twiml(response)


def _spoken_number(incident: Incident) -> str:
    return "incident " + " ".join(str(incident.id))


@router.post("/inbound/twilio/voice", include_in_schema=False)
async def voice(request: Request, t: str, rt: RuntimeDep) -> Response:
    """The call is answered: read the incident, gather one key."""
    await _twilio_form(request, rt)
    try:
        incident_id, _user = read_ack_token(rt.settings.secret(), t, now=rt.clock.now())
    except TocsinError:
        return _say("This call's link has expired. Acknowledge in the Tocsin app. Goodbye.")
    with rt.read_sessions() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            return _say("This incident no longer exists. Goodbye.")
        text = (f"Tocsin page. {_spoken_number(incident)}, severity "
                f"{incident.severity[-1]}, status {incident.status}: {incident.title}. "
                "Press 1 to acknowledge, 2 to escalate.")
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=10, method="POST",
                             action=f"{rt.settings.public_url}/inbound/twilio/voice/keys?t={t}")
    gather.say(text)
    response.say("No key was pressed. Goodbye.")
    return _twiml(response)


def _responder(session: Session, user_id: int) -> Principal:
    user = session.get(User, user_id)
    if user is None or not user.active or not Role(user.role).allows(Role.RESPONDER):
        raise Forbidden("the person this page was sent to can no longer acknowledge")
    return Principal(user_id=user.id, role=Role(user.role))


def _locked(session: Session, incident_id: int) -> Incident:
    incident = session.scalars(select(Incident).where(Incident.id == incident_id)
                               .with_for_update()).first()
    if incident is None:
        raise NotFound(f"incident INC-{incident_id} no longer exists")
    return incident


def acknowledge_with_token(rt: Runtime, token: str, *, via: str) -> tuple[Incident, bool]:
    """Acknowledge as the person a signed ack token names; the token works once."""
    now = rt.clock.now()
    incident_id, user_id = read_ack_token(rt.settings.secret(), token, now=now)
    with rt.sessions() as session:
        who = _responder(session, user_id)
        incident = _locked(session, incident_id)
        notify.use_ack_link(session, token=token, incident_id=incident_id, now=now)
        if lc.Status(incident.status) not in lc.OPEN_STATUSES:
            raise Conflict(f"{incident.number} is {incident.status}")
        changed = incidents.acknowledge(session, incident=incident, actor=who, now=now,
                                        settings=rt.settings)
        if changed:
            incidents.append_event(session, incident, kind=lc.EventKind.NOTE, now=now,
                                   actor=who, body=f"acknowledged by {via}")
        session.commit()
        return incident, changed


def escalate_now(rt: Runtime, token: str) -> Incident:
    """Move the incident's escalation to its next step now (the '2' key)."""
    now = rt.clock.now()
    incident_id, user_id = read_ack_token(rt.settings.secret(), token, now=now)
    with rt.sessions() as session:
        who = _responder(session, user_id)
        incident = _locked(session, incident_id)
        step = timers.pending(session, escalation.timer_key(incident.id))
        if step is None:
            raise Conflict("no further escalation step is waiting")
        notify.use_ack_link(session, token=token, incident_id=incident_id, now=now)
        timers.schedule(session, kind=step.kind, key=step.key, due_at=now, now=now,
                        payload=step.payload, owner=incident)
        incidents.append_event(session, incident, kind=lc.EventKind.NOTE, now=now, actor=who,
                               body="escalated by phone: the next level is paged now")
        session.commit()
        return incident


@router.post("/inbound/twilio/voice/keys", include_in_schema=False)
async def voice_keys(request: Request, t: str, rt: RuntimeDep) -> Response:
    form = await _twilio_form(request, rt)
    digits = form.get("Digits", "")
    try:
        if digits == "1":
            incident, changed = acknowledge_with_token(rt, t, via="phone call")
            return _say(f"{_spoken_number(incident)} acknowledged. Goodbye." if changed
                        else f"{_spoken_number(incident)} was already {incident.status}.")
        if digits == "2":
            incident = escalate_now(rt, t)
            return _say(f"Escalating {_spoken_number(incident)} now. Goodbye.")
    except TocsinError as exc:
        return _say(f"Nothing was changed: {exc.detail}. Goodbye.")
    return _say("Press 1 to acknowledge or 2 to escalate. Goodbye.")


# ---- email replies --------------------------------------------------------------------------

def reply_address(token: str, domain: str) -> str:
    """The Reply-To of an email page: replying 'ack' to it acknowledges."""
    return f"ack+{token}@{domain}"


def _mailgun_signed(key: str, timestamp: str, token: str, signature: str) -> bool:
    want = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, signature)


@router.post("/inbound/email", response_class=PlainTextResponse,
             summary="Inbound email webhook (Mailgun shape): reply 'ack' to a page")
async def inbound_email(request: Request, rt: RuntimeDep) -> PlainTextResponse:
    key = rt.settings.inbound_email_signing_key
    if key is None:
        raise NotFound("inbound email is not configured")
    form = {k: str(v) for k, v in (await request.form()).items()}
    stamp, nonce = form.get("timestamp", ""), form.get("token", "")
    if not stamp.isdigit() or not _mailgun_signed(key.get_secret_value(), stamp, nonce,
                                                  form.get("signature", "")):
        raise Unauthorized("bad or missing webhook signature")
    if abs(rt.clock.now().timestamp() - int(stamp)) > MAIL_WINDOW.total_seconds():
        raise Unauthorized("webhook timestamp too old")
    # The local part holds the token: case matters there (base64url), not in the domain.
    local, _, domain = form.get("recipient", "").strip().rpartition("@")
    if not local.startswith("ack+") or domain.lower() != (rt.settings.reply_domain or "").lower():
        raise Invalid("recipient: not a Tocsin reply address")
    text = form.get("stripped-text") or form.get("body-plain", "")
    if not REPLY_ACK.match(text):
        return PlainTextResponse("ignored: the reply does not start with 'ack'")
    try:
        incident, changed = acknowledge_with_token(rt, local.removeprefix("ack+"),
                                                   via="email reply")
    except TocsinError as exc:
        raise type(exc)(f"not acknowledged: {exc.detail}") from None
    return PlainTextResponse(f"{incident.number} acknowledged." if changed
                             else f"{incident.number} was already {incident.status}.")
