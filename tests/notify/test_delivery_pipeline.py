"""Delivery stages against real servers: permanent failure moves to the next method and
shows on the timeline; temporary failures back off; rate limits delay; a crash between send
and record resends once; nobody reachable is an alarming timeline entry."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.notify.paging import drain, paging_setup, verified_email, worker
from tests.notify.servers import Inbox, http_receiver
from tocsin.clock import FrozenClock
from tocsin.notify.models import Message
from tocsin.notify.pipeline import claim
from tocsin.runtime import Runtime


def timeline(client: TestClient, iid: int, who: Account) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = client.get(f"/api/v1/incidents/{iid}/timeline",
                                           headers=who.headers).json()
    return out


def declare(client: TestClient, admin: Account, service_id: int, sev: str = "SEV1") -> int:
    r = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Checkout failing", "severity": sev, "service_ids": [service_id]})
    assert r.status_code == 201, r.text
    iid: int = r.json()["id"]
    return iid


def test_permanent_failure_moves_to_next_method_and_shows(
        client: TestClient, runtime: Runtime, smtp: tuple[Inbox, int], admin: Account,
        make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    email_id = verified_email(client, w, inbox, alice, "alice@example.com")
    verified_email(client, w, inbox, bob, "bob@example.com")
    with http_receiver() as (got, url):
        hook = client.post(f"/api/v1/users/{alice.id}/contact-methods", headers=alice.headers,
                           json={"kind": "webhook", "address": url}).json()
        drain(w)
        code = json.loads(got[-1].body)["code"]
        client.post(f"/api/v1/contact-methods/{hook['id']}/verify", headers=alice.headers,
                    json={"code": code})
        # Alice's rule: email first, webhook only after 10 minutes.
        client.put(f"/api/v1/users/{alice.id}/notification-rules", headers=alice.headers,
                   json={"rules": [
                       {"urgency": "high", "delay_minutes": 0, "contact_method_id": email_id},
                       {"urgency": "high", "delay_minutes": 10,
                        "contact_method_id": hook["id"]}]})
        inbox.refuse.add("alice@example.com")  # the mailbox is gone: a 550
        setup = paging_setup(client, admin, alice, bob)
        iid = declare(client, admin, setup["service"]["id"])
        drain(w)
        pages = [r for r in got if b"incident_id" in r.body]
    assert len(pages) == 1, "the webhook takes over at once, without waiting its 10 minutes"
    failed = [e for e in timeline(client, iid, admin) if e["kind"] == "page_failed"]
    assert len(failed) == 1 and "550" in failed[0]["body"]
    assert failed[0]["data"]["next_contact_method_id"] == hook["id"]
    statuses = {m["contact_method_id"]: m["status"] for m in client.get(
        f"/api/v1/incidents/{iid}/pages", headers=admin.headers).json()}
    assert statuses[email_id] == "failed"


def test_temporary_failure_backs_off_then_delivers(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    alice, bob = make_account(), make_account()
    w = worker(runtime)
    verified_email(client, w, smtp[0], bob, "bob@example.com")
    with http_receiver(status=503) as (got, url):
        hook = client.post(f"/api/v1/users/{alice.id}/contact-methods", headers=alice.headers,
                           json={"kind": "webhook", "address": url}).json()
        drain(w)
        assert len(got) == 1
        drain(w)
        assert len(got) == 1, "a retry waits for its backoff"
        clock.advance(seconds=5)
        drain(w)
        assert len(got) == 2
    listed = client.get(f"/api/v1/users/{alice.id}/contact-methods",
                        headers=alice.headers).json()["items"]
    assert listed[0]["id"] == hook["id"] and listed[0]["verification_error"] is None
    with runtime.sessions() as s:
        m = s.scalars(select(Message).where(Message.contact_method_id == hook["id"])).one()
        assert m.status == "pending" and m.attempts == 2 and "503" in (m.last_error or "")


def test_rate_limit_delays_and_never_drops(client: TestClient, runtime: Runtime,
                                           clock: FrozenClock, admin: Account,
                                           make_settings: Any) -> None:
    runtime.settings = make_settings(database_url=runtime.settings.database_url,
                                     notify_rate_limit_per_minute=2)
    w = worker(runtime)
    with http_receiver() as (got, url):
        hook = client.post(f"/api/v1/users/{admin.id}/contact-methods", headers=admin.headers,
                           json={"kind": "webhook", "address": url}).json()
        for _ in range(4):
            client.post(f"/api/v1/contact-methods/{hook['id']}/test", headers=admin.headers)
            clock.advance(seconds=1)
        drain(w)
        assert len(got) == 2
        clock.advance(seconds=61)
        drain(w)
        assert len(got) == 4
        clock.advance(seconds=61)
        drain(w)
        assert len(got) == 5


def test_crash_between_send_and_record_resends_once(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account) -> None:
    w = worker(runtime)
    with http_receiver() as (got, url):
        client.post(f"/api/v1/users/{admin.id}/contact-methods", headers=admin.headers,
                    json={"kind": "webhook", "address": url})
        # A worker claims the message, then "dies" (we never record for it).
        taken = claim(runtime, worker_id="dead", now=clock.now(), limit=10)
        assert len(taken) == 1
        drain(w)
        assert got == [], "a leased message is not taken by another worker"
        clock.advance(seconds=runtime.settings.notify_lease_seconds)
        drain(w)
        assert len(got) == 1
        drain(w)
        assert len(got) == 1
    with runtime.sessions() as s:
        m = s.scalars(select(Message)).one()
        assert m.status == "sent" and m.claimed_by == "test-worker" and m.attempts == 2


def test_nobody_reachable_is_an_alarming_timeline_entry(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        make_account: Any) -> None:
    alice, bob = make_account(), make_account()  # no contact methods at all
    setup = paging_setup(client, admin, alice, bob)
    iid = declare(client, admin, setup["service"]["id"])
    drain(worker(runtime))
    nobody = [e for e in timeline(client, iid, admin) if e["kind"] == "nobody_paged"]
    assert len(nobody) == 1 and nobody[0]["body"].startswith("NO ONE COULD BE PAGED")
    assert f"{alice.user.name} has no verified contact method" in nobody[0]["body"]


def test_unverified_methods_are_never_paged(client: TestClient, runtime: Runtime,
                                            admin: Account, make_account: Any) -> None:
    alice, bob = make_account(), make_account()
    w = worker(runtime)
    with http_receiver() as (got, url):
        client.post(f"/api/v1/users/{alice.id}/contact-methods", headers=alice.headers,
                    json={"kind": "webhook", "address": url})
        drain(w)
        setup = paging_setup(client, admin, alice, bob)
        declare(client, admin, setup["service"]["id"])
        drain(w)
        assert len(got) == 1  # the verification message only
