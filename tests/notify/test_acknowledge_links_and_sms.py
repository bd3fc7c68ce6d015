"""Acknowledge from anywhere: tampered or expired links are refused; a signed inbound SMS
reply `ACK <n>` from a verified number acknowledges as its owner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.notify.servers import Inbox
from tocsin.clock import FrozenClock
from tocsin.notify.links import ack_token
from tocsin.notify.models import ContactMethod
from tocsin.notify.webhook.sender import sign
from tocsin.runtime import Runtime
from tocsin.settings import Settings

SMS_SECRET = "inbound-sms-secret-123"
TWILIO = f"twilio://AC{'a' * 32}:{'b' * 32}@15550001111/15557654321"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(database_url=database_url, smtp_port=smtp[1],
                         inbound_sms_secret=SMS_SECRET)


def test_tampered_and_expired_links_are_refused(client: TestClient, runtime: Runtime,
                                                clock: FrozenClock, responder: Account,
                                                viewer: Account, make_incident: Any) -> None:
    iid = make_incident()["id"]
    secret = runtime.settings.secret()
    good = ack_token(secret, incident_id=iid, user_id=responder.id,
                     expires=clock.now() + timedelta(hours=1))
    forged = good.rsplit(".", 1)[0].replace(f"{iid}.{responder.id}", f"{iid}.{viewer.id}") \
        + "." + good.rsplit(".", 1)[1]
    r = client.post(f"/ack/{forged}")
    assert r.status_code == 422 and "not valid" in r.text
    by_viewer = ack_token(secret, incident_id=iid, user_id=viewer.id,
                          expires=clock.now() + timedelta(hours=1))
    assert client.post(f"/ack/{by_viewer}").status_code == 403
    clock.advance(hours=2)
    r = client.post(f"/ack/{good}")
    assert r.status_code == 422 and "expired" in r.text
    assert client.get(f"/api/v1/incidents/{iid}",
                      headers=responder.headers).json()["status"] == "triggered"


def test_inbound_sms_ack(client: TestClient, runtime: Runtime, responder: Account,
                         make_incident: Any) -> None:
    r = client.post(f"/api/v1/users/{responder.id}/contact-methods", headers=responder.headers,
                    json={"kind": "sms", "address": TWILIO})
    assert r.status_code == 201, r.text
    with runtime.sessions() as s, s.begin():
        method = s.scalars(select(ContactMethod)).one()
        code = method.verify_code
    client.post(f"/api/v1/contact-methods/{method.id}/verify", headers=responder.headers,
                json={"code": code})
    iid = make_incident()["id"]

    def sms(sender: str, text: str, secret: str = SMS_SECRET) -> Any:
        body = urlencode({"From": sender, "Body": text}).encode()
        return client.post("/inbound/sms", content=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Tocsin-Signature": sign(body, [secret])})

    assert sms("+15557654321", f"ACK {iid}", secret="wrong").status_code == 403
    assert "not a verified" in sms("+15550000000", f"ACK {iid}").text
    assert "Reply ACK" in sms("+15557654321", "hello").text
    r = sms("+15557654321", f"ack {iid}")
    assert r.status_code == 200 and r.text == f"INC-{iid} acknowledged."
    inc = client.get(f"/api/v1/incidents/{iid}", headers=responder.headers).json()
    assert inc["status"] == "acknowledged" and inc["acknowledged_by_id"] == responder.id
    assert sms("+15557654321", f"4 {iid}").text == f"INC-{iid} was already acknowledged."
