"""Acknowledge by voice (Twilio-signed requests, built as Twilio documents them, with the
`twilio` library) and by email reply (a Mailgun-shaped, signed inbound webhook)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.engine.models import Timer
from tocsin.notify.links import ack_token
from tocsin.respond.phone import reply_address
from tocsin.runtime import Runtime
from tocsin.wiring import build_runtime

AUTH_TOKEN = "12345678901234567890123456789012"
MAIL_KEY = "key-mailgun-signing-0123456789"
PUBLIC = "https://tocsin.example.com"


@pytest.fixture
def runtime(make_settings: Any, database_url: str, clock: FrozenClock) -> Iterator[Runtime]:
    rt = build_runtime(make_settings(
        database_url=database_url, base_url=PUBLIC, twilio_auth_token=AUTH_TOKEN,
        inbound_email_signing_key=MAIL_KEY, reply_domain="reply.example.com"), clock)
    yield rt
    rt.close()


def twilio_post(client: TestClient, path: str, form: dict[str, str],
                token: str = AUTH_TOKEN) -> Any:
    """POST as Twilio does: form-encoded, signed over the full public URL and the form."""
    signature = RequestValidator(token).compute_signature(PUBLIC + path, form)
    return client.post(path, content=urlencode(form).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def call_form(digits: str | None = None) -> dict[str, str]:
    form = {"CallSid": "CA0123456789abcdef0123456789abcdef", "AccountSid": "AC" + "1" * 32,
            "From": "+15005550006", "To": "+15005550001", "CallStatus": "in-progress",
            "Direction": "outbound-api", "ApiVersion": "2010-04-01"}
    if digits is not None:
        form["Digits"] = digits
    return form


def _token(runtime: Runtime, iid: int, uid: int) -> str:
    return ack_token(runtime.settings.secret(), incident_id=iid, user_id=uid,
                     expires=runtime.clock.now() + timedelta(hours=1))


def _status(client: TestClient, who: Account, iid: int) -> str:
    status: str = client.get(f"/api/v1/incidents/{iid}", headers=who.headers).json()["status"]
    return status


def test_twilio_signed_voice_1_acknowledges_and_a_forged_one_is_refused(
        client: TestClient, runtime: Runtime, responder: Account, make_incident: Any) -> None:
    iid = make_incident(title="Checkout down", severity="SEV1")["id"]
    t = _token(runtime, iid, responder.id)
    r = twilio_post(client, f"/inbound/twilio/voice?t={t}", call_form())
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    twiml = ElementTree.fromstring(r.text)
    gather = twiml.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert gather.get("action") == f"{PUBLIC}/inbound/twilio/voice/keys?t={t}"
    said = gather.findtext("Say") or ""
    assert "Checkout down" in said and "severity 1" in said
    assert "Press 1 to acknowledge, 2 to escalate" in said

    keys = f"/inbound/twilio/voice/keys?t={t}"
    # Forged: signed with another auth token; unsigned; signed for other digits.
    assert twilio_post(client, keys, call_form("1"), token="0" * 32).status_code == 401
    assert client.post(keys, content=urlencode(call_form("1")).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded"}).status_code == 401
    good = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + keys, call_form("2"))
    r = client.post(keys, content=urlencode(call_form("1")).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": good})
    assert r.status_code == 401
    assert _status(client, responder, iid) == "triggered"

    r = twilio_post(client, keys, call_form("1"))
    assert r.status_code == 200, r.text
    assert "acknowledged" in (ElementTree.fromstring(r.text).findtext("Say") or "")
    shown = client.get(f"/api/v1/incidents/{iid}", headers=responder.headers).json()
    assert shown["status"] == "acknowledged" and shown["acknowledged_by_id"] == responder.id
    events = client.get(f"/api/v1/incidents/{iid}/timeline", headers=responder.headers).json()
    assert any(e["body"] == "acknowledged by phone call" for e in events)
    # The same signed request again (a replay) changes nothing and says so.
    r = twilio_post(client, keys, call_form("1"))
    assert "already used" in (ElementTree.fromstring(r.text).findtext("Say") or "")


def test_voice_2_moves_escalation_to_its_next_step_now(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account,
        make_incident: Any) -> None:
    svc = client.post("/api/v1/services", json={"name": "web"}, headers=admin.headers).json()
    policy = client.post("/api/v1/escalation-policies", headers=admin.headers, json={
        "name": "web", "levels": [
            {"delay_minutes": 30, "targets": [{"kind": "user", "id": responder.id}]},
            {"delay_minutes": 30, "targets": [{"kind": "user", "id": admin.id}]}]})
    assert policy.status_code == 201, policy.text
    r = client.put(f"/api/v1/services/{svc['id']}/escalation-policies", headers=admin.headers,
                   json={"policies": {sev: policy.json()["id"]
                                      for sev in ("SEV1", "SEV2", "SEV3", "SEV4")}})
    assert r.status_code == 200, r.text
    iid = make_incident(service_ids=[svc["id"]])["id"]
    key = f"escalation:{iid}"
    with runtime.sessions() as s:
        due = s.scalars(select(Timer.due_at).where(Timer.key == key)).one()
    assert due == runtime.clock.now() + timedelta(minutes=30)
    t = _token(runtime, iid, responder.id)
    r = twilio_post(client, f"/inbound/twilio/voice/keys?t={t}", call_form("2"))
    assert r.status_code == 200 and "Escalating" in r.text, r.text
    with runtime.sessions() as s:
        due = s.scalars(select(Timer.due_at).where(
            Timer.key == key, Timer.status == "pending")).one()
    assert due == runtime.clock.now()


def mailgun(form: dict[str, str], when: int, key: str = MAIL_KEY) -> dict[str, str]:
    nonce = "a" * 50
    sig = hmac.new(key.encode(), f"{when}{nonce}".encode(), hashlib.sha256).hexdigest()
    return {**form, "timestamp": str(when), "token": nonce, "signature": sig}


def test_email_reply_ack_acknowledges_through_the_signed_reply_address(
        client: TestClient, runtime: Runtime, responder: Account, make_incident: Any,
        clock: FrozenClock) -> None:
    iid = make_incident()["id"]
    to = reply_address(_token(runtime, iid, responder.id), "reply.example.com")
    now = int(clock.now().timestamp())
    reply = {"recipient": to, "sender": "rui@example.com", "subject": "Re: [SEV2] INC",
             "body-plain": "ack\n\n> [SEV2] ...", "stripped-text": "ack"}
    assert client.post("/inbound/email", data=mailgun(reply, now, key="wrong-key")
                       ).status_code == 401
    assert client.post("/inbound/email", data=mailgun(reply, now - 3600)).status_code == 401
    flipped = "y" if to[-25] == "x" else "x"  # one character of the signature changed
    forged = {**reply, "recipient": to[:-25] + flipped + to[-24:]}
    assert client.post("/inbound/email", data=mailgun(forged, now)).status_code == 422
    assert _status(client, responder, iid) == "triggered"
    r = client.post("/inbound/email", data=mailgun(reply, now))
    assert r.status_code == 200 and "acknowledged" in r.text, r.text
    assert _status(client, responder, iid) == "acknowledged"
    assert client.post("/inbound/email", data=mailgun(reply, now)).status_code == 409


def test_email_pages_carry_the_signed_reply_address(runtime: Runtime) -> None:
    from tocsin.notify.contract import ChannelKind
    from tocsin.notify.email.sender import build
    from tocsin.notify.render import render

    out = render(kind="page", channel=ChannelKind.EMAIL, address="rui@example.com",
                 payload={"title": "x", "severity": "SEV2"}, user_id=1, incident_id=7,
                 idempotency_key="k", settings=runtime.settings, now=runtime.clock.now())
    msg = build(out, runtime.settings)
    token = str(out.data["ack_url"]).rsplit("/", 1)[-1]
    assert msg["Reply-To"] == reply_address(token, "reply.example.com")
