"""A security incident is restricted from the start and its 72 h clock reminds on the
timeline until the notification is recorded."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, worker
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_security_incident_72h_clock_reminds(runtime: Runtime, client: TestClient,
                                             responder: Account, viewer: Account,
                                             clock: FrozenClock) -> None:
    r = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Customer data exposed", "severity": "SEV2", "category_type": "security"})
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["restricted"] is True
    assert client.get(f"/api/v1/incidents/{inc['id']}", headers=viewer.headers).status_code == 404
    clocks = client.get(f"/api/v1/incidents/{inc['id']}/notification-clocks",
                        headers=responder.headers).json()["items"]
    assert [(c["name"], c["hours"]) for c in clocks] == [("GDPR supervisory authority", 72)]

    clock.advance(timedelta(hours=48, minutes=1))  # past the 24 h-before reminder
    drain(worker(runtime))
    events = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                        headers=responder.headers).json()
    due = [e for e in events if e["kind"] == "notification_due"]
    assert len(due) == 1 and "notification due in 24 h" in due[0]["body"]

    r = client.post(f"/api/v1/incidents/{inc['id']}/notification-clocks/{clocks[0]['id']}"
                    "/notified", headers=responder.headers, json={"note": "ref 123"})
    assert r.status_code == 200 and r.json()["notified_at"]
    clock.advance(timedelta(hours=30))
    drain(worker(runtime))
    events = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                        headers=responder.headers).json()
    assert len([e for e in events if e["kind"] == "notification_due"]) == 1
    assert any(e["kind"] == "notification_made" for e in events)
