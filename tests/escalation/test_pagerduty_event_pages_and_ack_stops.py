"""Must-show via alert intake: a PagerDuty Events v2 trigger → incident → email page on a
real SMTP server → acknowledge link clicked → no further pages."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, drain_intake
from tests.notify.paging import drain, paging_setup, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_pagerduty_event_to_email_to_ack(client: TestClient, runtime: Runtime,
                                         clock: FrozenClock, smtp: tuple[Inbox, int],
                                         admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    verified_email(client, w, inbox, alice, "alice@example.com")
    verified_email(client, w, inbox, bob, "bob@example.com")
    setup = paging_setup(client, admin, alice, bob)
    integration = client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": setup["service"]["id"], "kind": "pagerduty", "name": "pd"})
    assert integration.status_code == 201, integration.text
    r = client.post("/v2/enqueue", json={
        "routing_key": integration.json()["key"], "event_action": "trigger",
        "dedup_key": "db1-disk",
        "payload": {"summary": "Disk full on db1", "source": "db1", "severity": "critical"}})
    assert r.status_code == 202, r.text
    drain_intake(runtime)
    drain(w)
    pages = [m for m in inbox.to("alice@example.com") if "INC-" in m["Subject"]]
    assert len(pages) == 1 and "Disk full on db1" in pages[0]["Subject"]
    link = re.search(r"Acknowledge: http://tocsin.test(\S+)", body_of(pages[0]))
    assert link is not None
    assert client.post(link.group(1)).status_code == 200
    before = len(inbox.messages)
    for _ in range(6):
        clock.advance(minutes=5)
        drain(w)
    assert len(inbox.messages) == before
    assert not [m for m in inbox.to("bob@example.com") if "INC-" in m["Subject"]]
