"""Escalation follows the incident: severity raise restarts on the stricter policy (stale
steps do nothing), resolving cancels pending pages, edits don't touch running escalations,
lateral pages reach an expert on demand, and bad policies are refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import (
    drain,
    pages_to,
    paging_setup,
    sev3_incident,
    verified_email,
    worker,
)
from tests.notify.servers import Inbox
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_severity_raise_restarts_on_the_stricter_policy(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    iid, _people = sev3_incident(client, w, inbox, admin, make_account)
    before = client.get(f"/api/v1/incidents/{iid}/escalation", headers=admin.headers).json()
    clock.advance(minutes=1)
    client.post(f"/api/v1/incidents/{iid}/severity", headers=admin.headers,
                json={"severity": "SEV1", "reason": "all checkouts failing"})
    drain(w)
    esc = client.get(f"/api/v1/incidents/{iid}/escalation", headers=admin.headers).json()
    assert esc["policy_name"] == "sev1" and esc["generation"] == before["generation"] + 1
    assert pages_to(inbox, "alice@x.io", iid) == 1
    clock.advance(minutes=5)
    drain(w)
    assert pages_to(inbox, "bob@x.io", iid) == 1
    clock.advance(minutes=120)
    drain(w)
    # The SEV3 policy's pending 60-minute step (carol, then bob) was stale: nothing more.
    assert (pages_to(inbox, "carol@x.io", iid), pages_to(inbox, "bob@x.io", iid)) == (1, 1)


def test_resolve_cancels_pending_rule_followups(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(), make_account()
    w = worker(runtime)
    first = verified_email(client, w, inbox, alice, "alice@x.io")
    second = verified_email(client, w, inbox, alice, "alice2@x.io")
    verified_email(client, w, inbox, bob, "bob@x.io")
    client.put(f"/api/v1/users/{alice.id}/notification-rules", headers=alice.headers,
               json={"rules": [
                   {"urgency": "high", "delay_minutes": 0, "contact_method_id": first},
                   {"urgency": "high", "delay_minutes": 2, "contact_method_id": second}]})
    setup = paging_setup(client, admin, alice, bob)
    iid = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Login broken", "severity": "SEV1",
        "service_ids": [setup["service"]["id"]]}).json()["id"]
    drain(w)
    assert pages_to(inbox, "alice@x.io", iid) == 1 and pages_to(inbox, "alice2@x.io", iid) == 0
    client.post(f"/api/v1/incidents/{iid}/resolve", headers=admin.headers, json={})
    clock.advance(minutes=30)
    drain(w)
    assert pages_to(inbox, "alice2@x.io", iid) == 0 and pages_to(inbox, "bob@x.io", iid) == 0
    statuses = sorted(m["status"] for m in client.get(
        f"/api/v1/incidents/{iid}/pages", headers=admin.headers).json())
    assert statuses == ["cancelled", "sent"]
    esc = client.get(f"/api/v1/incidents/{iid}/escalation", headers=admin.headers).json()
    assert esc["status"] == "cancelled"


def test_policy_edit_does_not_change_running_escalation(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob, carol = make_account(), make_account(), make_account()
    w = worker(runtime)
    for who, addr in ((alice, "a@x.io"), (bob, "b@x.io"), (carol, "c@x.io")):
        verified_email(client, w, inbox, who, addr)
    setup = paging_setup(client, admin, alice, bob)
    iid = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Queue stuck", "severity": "SEV1",
        "service_ids": [setup["service"]["id"]]}).json()["id"]
    drain(w)
    r = client.put(f"/api/v1/escalation-policies/{setup['policy']['id']}", headers=admin.headers,
                   json={"name": "sev1", "levels": [
                       {"delay_minutes": 5, "targets": [{"kind": "user", "id": carol.id}]},
                       {"delay_minutes": 5, "targets": [{"kind": "user", "id": carol.id}]}]})
    assert r.status_code == 200
    clock.advance(minutes=5)
    drain(w)
    assert pages_to(inbox, "b@x.io", iid) == 1 and pages_to(inbox, "c@x.io", iid) == 0


def test_lateral_page_reaches_an_expert_after_ack(
        client: TestClient, runtime: Runtime, smtp: tuple[Inbox, int], admin: Account,
        responder: Account, make_account: Any) -> None:
    inbox, _ = smtp
    expert = make_account(name="DB expert")
    w = worker(runtime)
    verified_email(client, w, inbox, expert, "dba@x.io")
    iid = client.post("/api/v1/incidents", headers=responder.headers,
                      json={"title": "Replication lag", "severity": "SEV2"}).json()["id"]
    client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=responder.headers)
    r = client.post(f"/api/v1/incidents/{iid}/page", headers=responder.headers,
                    json={"user_ids": [expert.id], "note": "need a DBA"})
    assert r.status_code == 200 and r.json() == {"paged_user_ids": [expert.id]}
    drain(w)
    assert pages_to(inbox, "dba@x.io", iid) == 1
    kinds = [e["kind"] for e in client.get(f"/api/v1/incidents/{iid}/timeline",
                                           headers=admin.headers).json()]
    assert "escalation_skipped" in kinds and "escalated" in kinds and "page_sent" in kinds


def test_bad_policies_are_refused(client: TestClient, admin: Account) -> None:
    r = client.post("/api/v1/escalation-policies", headers=admin.headers,
                    json={"name": "empty", "levels": [{"delay_minutes": 5, "targets": []}]})
    assert r.status_code == 422 and "level 1 has no targets" in r.json()["detail"]
    r = client.post("/api/v1/escalation-policies", headers=admin.headers, json={
        "name": "ghost", "levels": [{"delay_minutes": 5,
                                     "targets": [{"kind": "schedule", "id": 404}]}]})
    assert r.status_code == 422 and "no schedule with id 404" in r.json()["detail"]
    assert client.get("/api/v1/escalation-policies", headers=admin.headers).json()["items"] == []
