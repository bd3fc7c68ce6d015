"""A voice page end to end: the call is placed through Twilio's Calls API (the `twilio`
library, against a strict loopback stand-in), Twilio then fetches Tocsin's TwiML (signed as
Twilio signs), and key 1 acknowledges. The verification code is spoken."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.conftest import Account
from tests.notify.paging import drain, worker
from tests.respond.twilio_standin import twilio_api
from tocsin.clock import FrozenClock
from tocsin.incidents.models import Incident
from tocsin.notify import service as notify
from tocsin.runtime import Runtime
from tocsin.wiring import build_runtime

SID, TOKEN = "AC" + "0123456789abcdef" * 2, "f" * 32
PUBLIC = "https://tocsin.example.com"


@pytest.fixture
def api() -> Iterator[tuple[list[dict[str, str]], str]]:
    with twilio_api(SID, TOKEN) as found:
        yield found


@pytest.fixture
def runtime(make_settings: Any, database_url: str, clock: FrozenClock,
            api: tuple[list[dict[str, str]], str]) -> Iterator[Runtime]:
    rt = build_runtime(make_settings(database_url=database_url, base_url=PUBLIC,
                                     twilio_auth_token=TOKEN, twilio_api_url=api[1]), clock)
    yield rt
    rt.close()


def signed(client: TestClient, url: str, form: dict[str, str]) -> Any:
    path = url.removeprefix(PUBLIC)
    sig = RequestValidator(TOKEN).compute_signature(url, form)
    return client.post(path, content=urlencode(form).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})


def test_voice_page_is_a_call_answered_by_tocsin_and_acknowledged_with_1(
        client: TestClient, runtime: Runtime, responder: Account, make_incident: Any,
        api: tuple[list[dict[str, str]], str]) -> None:
    calls, _ = api
    w = worker(runtime)
    r = client.post(f"/api/v1/users/{responder.id}/contact-methods", headers=responder.headers,
                    json={"kind": "voice",
                          "address": f"twilio://{SID}:{TOKEN}@15005550006/15005550001"})
    assert r.status_code == 201, r.text
    drain(w)
    [verify_call] = calls
    assert (verify_call["To"], verify_call["From"]) == ("+15005550001", "+15005550006")
    digits = re.search(r"code is ([\d ]+)\.", verify_call["Twiml"])
    assert digits is not None
    code = digits.group(1).replace(" ", "")
    r = client.post(f"/api/v1/contact-methods/{r.json()['id']}/verify",
                    headers=responder.headers, json={"code": code})
    assert r.json()["verified"] is True, r.text

    iid = make_incident(title="Checkout down", severity="SEV1")["id"]
    with runtime.sessions() as s, s.begin():
        incident = s.scalars(select(Incident).where(Incident.id == iid)).one()
        assert notify.page_user(s, user_id=responder.id, incident=incident,
                                now=runtime.clock.now(), key=f"inc{iid}:v", payload={}) == 1
    drain(w)
    page_call = calls[-1]
    assert page_call["Url"].startswith(f"{PUBLIC}/inbound/twilio/voice?t=")
    form = {"CallSid": "CA" + "0" * 32, "AccountSid": SID, "From": "+15005550006",
            "To": "+15005550001", "CallStatus": "in-progress"}
    twiml = ElementTree.fromstring(signed(client, page_call["Url"], form).text)
    gather = twiml.find("Gather")
    assert gather is not None and "Checkout down" in (gather.findtext("Say") or "")
    action = gather.get("action")
    assert action is not None
    r = signed(client, action, {**form, "Digits": "1"})
    assert "acknowledged" in r.text
    shown = client.get(f"/api/v1/incidents/{iid}", headers=responder.headers).json()
    assert shown["status"] == "acknowledged" and shown["acknowledged_by_id"] == responder.id


def test_a_refused_call_is_a_permanent_failure(runtime: Runtime) -> None:
    from tocsin.notify.contract import ChannelKind, Outgoing, PermanentError
    from tocsin.notify.twilio_voice.sender import send

    out = Outgoing(ChannelKind.VOICE, f"twilio://{SID}:wrong@15005550006/15005550001",
                   "s", "t", data={"kind": "test"})
    with pytest.raises(PermanentError, match="401"):
        send(out, runtime.settings)
