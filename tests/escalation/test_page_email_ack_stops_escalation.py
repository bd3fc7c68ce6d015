"""Must-show: incident → email page received by a real SMTP server → its acknowledge link
clicked over HTTP → escalation stops (no further pages however far the clock moves)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, paging_setup, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def kinds(client: TestClient, iid: int, who: Account) -> list[str]:
    return [e["kind"] for e in client.get(f"/api/v1/incidents/{iid}/timeline",
                                          headers=who.headers).json()]


def test_email_ack_link_stops_escalation(client: TestClient, runtime: Runtime,
                                         clock: FrozenClock, smtp: tuple[Inbox, int],
                                         admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    verified_email(client, w, inbox, alice, "alice@example.com")
    verified_email(client, w, inbox, bob, "bob@example.com")
    setup = paging_setup(client, admin, alice, bob)
    r = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Card payments failing", "severity": "SEV1",
        "service_ids": [setup["service"]["id"]]})
    iid = r.json()["id"]
    drain(w)
    pages = [m for m in inbox.to("alice@example.com") if "INC-" in m["Subject"]]
    assert [m["Subject"] for m in pages] == [f"[SEV1] INC-{iid}: Card payments failing"]
    assert {"escalation_started", "escalated", "page_sent"} <= set(kinds(client, iid, admin))

    link = re.search(r"Acknowledge: (\S+)", body_of(pages[0]))
    assert link is not None and link.group(1).startswith("http://tocsin.test/ack/")
    path = link.group(1).removeprefix("http://tocsin.test")
    clock.advance(minutes=2)
    shown = client.get(path)
    assert shown.status_code == 200 and "<form method=post>" in shown.text
    assert client.get(f"/api/v1/incidents/{iid}", headers=admin.headers).json()["status"] \
        == "triggered", "showing the confirm page must not acknowledge"
    clicked = client.post(path)
    assert clicked.status_code == 200 and "acknowledged" in clicked.text
    inc = client.get(f"/api/v1/incidents/{iid}", headers=admin.headers).json()
    assert inc["status"] == "acknowledged" and inc["acknowledged_by_id"] == alice.id

    before = len(inbox.messages)
    for _ in range(12):
        clock.advance(minutes=5)
        drain(w)
    assert len(inbox.messages) == before, "no page may follow an acknowledgement"
    assert inbox.to("bob@example.com")[-1]["Subject"].startswith("Tocsin: verify")
    esc = client.get(f"/api/v1/incidents/{iid}/escalation", headers=admin.headers).json()
    assert esc["status"] == "acknowledged" and esc["next_step_at"] is None


def test_without_ack_the_next_level_and_repeat_are_paged(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    verified_email(client, w, inbox, alice, "alice@example.com")
    verified_email(client, w, inbox, bob, "bob@example.com")
    setup = paging_setup(client, admin, alice, bob, repeat=1)
    iid = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Checkout down", "severity": "SEV1",
        "service_ids": [setup["service"]["id"]]}).json()["id"]

    def pages(address: str) -> int:
        return sum(1 for m in inbox.to(address) if f"INC-{iid}" in m["Subject"])

    drain(w)
    assert (pages("alice@example.com"), pages("bob@example.com")) == (1, 0)
    clock.advance(minutes=4, seconds=59)
    drain(w)
    assert pages("bob@example.com") == 0, "level 2 is due after 5 minutes, not before"
    clock.advance(seconds=1)
    drain(w)
    assert pages("bob@example.com") == 1
    clock.advance(minutes=5)
    drain(w)
    assert pages("alice@example.com") == 2, "the policy repeats once"
    clock.advance(minutes=5)
    drain(w)
    clock.advance(minutes=60)
    drain(w)
    assert (pages("alice@example.com"), pages("bob@example.com")) == (2, 2)
    esc = client.get(f"/api/v1/incidents/{iid}/escalation", headers=admin.headers).json()
    assert esc["status"] == "exhausted"
