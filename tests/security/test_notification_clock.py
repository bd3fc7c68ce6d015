"""A security incident is restricted from the start and its 72 h clock reminds on the
timeline until the notification is recorded."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, worker
from tests.web.conftest import web_login
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


def test_becoming_a_security_incident_restricts_it_and_it_stays_restricted(
        client: TestClient, responder: Account, viewer: Account) -> None:
    r = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Odd logins", "severity": "SEV3"})
    inc = r.json()["id"]
    assert client.get(f"/api/v1/incidents/{inc}", headers=viewer.headers).status_code == 200
    r = client.patch(f"/api/v1/incidents/{inc}", headers=responder.headers,
                     json={"category_type": "security"})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/incidents/{inc}", headers=viewer.headers).status_code == 404
    clocks = client.get(f"/api/v1/incidents/{inc}/notification-clocks",
                        headers=responder.headers).json()["items"]
    assert len(clocks) == 1
    r = client.patch(f"/api/v1/incidents/{inc}", headers=responder.headers,
                     json={"restricted": False})
    assert r.status_code == 422 and "stays restricted" in r.json()["detail"]


def test_the_incident_page_records_a_notification(
        client: TestClient, responder: Account) -> None:
    inc = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Laptop stolen", "severity": "SEV3", "category_type": "security"}).json()
    csrf = web_login(client, responder)
    page = client.get(f"/incidents/{inc['id']}").text
    assert "Notification deadlines" in page and "GDPR supervisory authority" in page
    clock = client.get(f"/api/v1/incidents/{inc['id']}/notification-clocks").json()["items"][0]
    r = client.post(f"/incidents/{inc['id']}/notification-clocks/{clock['id']}/notified",
                    data={"csrf_token": csrf, "note": "DPA ref 42"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert "notified" in client.get(f"/incidents/{inc['id']}").text
    done = client.get(f"/api/v1/incidents/{inc['id']}/notification-clocks").json()["items"][0]
    assert done["note"] == "DPA ref 42" and done["notified_by_id"] == responder.id
