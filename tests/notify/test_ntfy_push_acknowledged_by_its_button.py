"""A page pushed through ntfy carries Acknowledge and Open buttons; tapping Acknowledge (the
`http` action, as the ntfy app performs it) acknowledges the incident, once."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.notify.ntfy_standin import ntfy_server, problems
from tests.notify.paging import drain, worker
from tocsin.incidents.models import Incident
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind, Outgoing
from tocsin.notify.ntfy.sender import message_of, target_of
from tocsin.runtime import Runtime


def test_ntfy_page_is_acknowledged_by_its_button(client: TestClient, runtime: Runtime,
                                                 responder: Account,
                                                 make_incident: Any) -> None:
    w = worker(runtime)
    with ntfy_server() as (got, port):
        r = client.post(f"/api/v1/users/{responder.id}/contact-methods",
                        headers=responder.headers,
                        json={"kind": "ntfy", "address": f"ntfy://127.0.0.1:{port}/rui-pages"})
        assert r.status_code == 201, r.text
        drain(w)
        code = re.search(r"code is (\d{6})", got[0]["message"])
        assert code is not None and got[0]["topic"] == "rui-pages"
        assert "actions" not in got[0]  # a verification code has no buttons
        r = client.post(f"/api/v1/contact-methods/{r.json()['id']}/verify",
                        headers=responder.headers, json={"code": code.group(1)})
        assert r.json()["verified"] is True, r.text
        iid = make_incident(title="Checkout down", severity="SEV1")["id"]
        with runtime.sessions() as s, s.begin():
            incident = s.scalars(select(Incident).where(Incident.id == iid)).one()
            assert notify.page_user(s, user_id=responder.id, incident=incident,
                                    now=runtime.clock.now(), key=f"inc{iid}:test",
                                    payload={}) == 1
        drain(w)
    page = got[-1]
    assert page["priority"] == 5 and "Checkout down" in page["title"]
    ack, open_ = page["actions"]
    assert (ack["action"], ack["label"], ack["method"]) == ("http", "Acknowledge", "POST")
    assert (open_["action"], open_["label"]) == ("view", "Open")
    assert open_["url"] == f"http://tocsin.test/incidents/{iid}"
    # The phone performs the http action: POST to its URL (here, on this server).
    path = ack["url"].removeprefix("http://tocsin.test")
    r = client.request(ack["method"], path)
    assert r.status_code == 200 and "acknowledged" in r.text
    shown = client.get(f"/api/v1/incidents/{iid}", headers=responder.headers).json()
    assert shown["status"] == "acknowledged" and shown["acknowledged_by_id"] == responder.id
    # The same button again (or a replayed request) is refused.
    again = client.request(ack["method"], path)
    assert again.status_code == 409 and "already used" in again.text


def test_addresses_and_the_stand_in_agree_with_ntfy_docs() -> None:
    t = target_of("ntfys://u:p%40ss@push.example.com:8443/alerts?token=tk_x")
    assert (t.server, t.topic, t.auth, t.token) == \
        ("https://push.example.com:8443", "alerts", ("u", "p@ss"), "tk_x")
    assert target_of("ntfy://my-topic").server == "https://ntfy.sh"
    page = Outgoing(ChannelKind.NTFY, "ntfy://x/t", "[SEV1] INC-1: x", "text",
                    data={"kind": "page", "ack_url": "https://t.example/ack/a",
                          "incident_url": "https://t.example/incidents/1"})
    assert problems(message_of(page, "t")) == []
    assert problems({"topic": "t", "actions": [{"action": "http", "lable": "x"}]}) != []
