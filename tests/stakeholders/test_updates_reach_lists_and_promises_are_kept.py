"""An update goes to the lists its incident's severity and services match (SEV1 executives
get the short summary) through real SMTP; the promised next update is tracked, the comms
lead reminded before it is due, and a missed one counted on the incident."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def _lists(client: TestClient, admin: Account, checkout: int, search: int) -> None:
    for body in (
        {"name": "leadership", "executive": True, "severities": ["SEV1"],
         "targets": [{"kind": "email", "address": "cto@example.com"}]},
        {"name": "support", "targets": [{"kind": "email", "address": "support@example.com"}]},
        {"name": "search team", "service_ids": [search],
         "targets": [{"kind": "email", "address": "search@example.com"}]},
        {"name": "checkout team", "service_ids": [checkout],
         "targets": [{"kind": "email", "address": "checkout@example.com"}]},
    ):
        r = client.post("/api/v1/stakeholders/lists", headers=admin.headers, json=body)
        assert r.status_code == 201, r.text


def test_update_reaches_matching_lists_and_the_promise_is_tracked(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account,
        smtp: tuple[Inbox, int], clock: FrozenClock,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    checkout = client.post("/api/v1/services", json={"name": "checkout"},
                           headers=admin.headers).json()["id"]
    search = client.post("/api/v1/services", json={"name": "search"},
                         headers=admin.headers).json()["id"]
    _lists(client, admin, checkout, search)
    verified_email(client, w, inbox, responder, "rui@example.com")
    inc = make_incident(severity="SEV1", service_ids=[checkout], title="Payments failing",
                        description="Card payments fail for all users")
    url = f"/api/v1/incidents/{inc['id']}/stakeholder-updates"
    assert client.post(url, headers=responder.headers,
                       json={"kind": "initial"}).status_code == 403  # not the comms lead
    r = client.post(f"/api/v1/incidents/{inc['id']}/roles", headers=admin.headers,
                    json={"role": "comms_lead", "user_id": responder.id})
    assert r.status_code == 200, r.text

    r = client.post(url, headers=responder.headers, json={"kind": "initial"})
    assert r.status_code == 201, r.text
    assert r.json()["recipients"] == 3
    promised = clock.now() + timedelta(minutes=15)
    assert r.json()["next_update_at"].startswith(promised.isoformat()[:16])
    drain(w)
    [support] = inbox.to("support@example.com")
    assert support["Subject"] == "[SEV1] Investigating an issue affecting checkout"
    text = body_of(support)
    assert "Impact: Card payments fail for all users" in text
    assert f"Next update by {promised:%H:%M} UTC" in text
    [cto] = inbox.to("cto@example.com")
    assert cto["Subject"].startswith("[SEV1] Executive summary: checkout")
    assert inbox.to("checkout@example.com") and not inbox.to("search@example.com")

    clock.advance(minutes=10)  # 5 min before the promise: the comms lead is reminded
    drain(w)
    reminders = [m for m in inbox.to("rui@example.com") if "stakeholder update due" in
                 m["Subject"]]
    assert len(reminders) == 1 and f"{promised:%H:%M} UTC" in reminders[0]["Subject"]

    clock.advance(minutes=6)  # the promise passes with no update
    drain(w)
    state = client.get(url, headers=responder.headers).json()
    assert state["missed"] == 1 and state["next_update_at"] is None
    events = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                        headers=responder.headers).json()
    assert any("STAKEHOLDER UPDATE MISSED" in e["body"] for e in events)

    # A progress update keeps the next promise: nothing is missed.
    r = client.post(url, headers=responder.headers, json={
        "kind": "progress", "fields": {"hypothesis": "card processor timeouts",
                                       "actions": "failed over", "next_step": "watch"},
        "next_update_minutes": 20})
    assert r.status_code == 201, r.text
    clock.advance(minutes=19)
    drain(w)
    assert client.get(url, headers=responder.headers).json()["missed"] == 1
    r = client.post(url, headers=responder.headers, json={
        "kind": "resolution", "fields": {"cause": "expired certificate"}})
    assert r.status_code == 201 and r.json()["next_update_at"] is None
    clock.advance(minutes=5)
    drain(w)
    assert client.get(url, headers=responder.headers).json()["missed"] == 1
    assert "Cause: expired certificate" in body_of(inbox.to("support@example.com")[-1])


def test_drafts_and_restricted_incidents(client: TestClient, admin: Account,
                                         responder: Account, viewer: Account,
                                         make_incident: Callable[..., dict[str, Any]]) -> None:
    inc = make_incident(severity="SEV2", restricted=True)
    url = f"/api/v1/incidents/{inc['id']}/stakeholder-updates"
    r = client.post(url, headers=responder.headers, json={"kind": "initial", "draft": True})
    assert r.status_code == 201 and r.json()["sent_at"] is None, r.text
    assert client.get(url, headers=viewer.headers).status_code == 404  # need-to-know
    r = client.post(f"{url}/{r.json()['id']}/send", headers=admin.headers)
    assert r.status_code == 200 and r.json()["sent_at"] is not None
    r = client.post(f"{url}/{r.json()['id']}/send", headers=admin.headers)
    assert r.status_code == 409
    r = client.post(url, headers=admin.headers,
                    json={"kind": "progress", "body": "{oops"})
    assert r.status_code == 422
