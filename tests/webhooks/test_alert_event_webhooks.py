"""Alert events reach event webhook subscriptions: created (paged or suppressed),
acknowledged and resolved, signed, filtered by service and severity, on a real loopback
HTTP server; a repeat of an open alert is not an event, and a restricted incident's alerts are
never published."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.webhooks.test_event_webhooks import SECRET, deliver, receiver
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.service import IngestResult, ingest_event
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.clock import FrozenClock
from tocsin.notify.webhook.sender import verify
from tocsin.runtime import Runtime


def new_service(runtime: Runtime, name: str) -> int:
    with runtime.sessions() as session, session.begin():
        return catalog.create_service(session, data=ServiceCreate(name=name),
                                      now=runtime.clock.now()).id


def ingest(runtime: Runtime, service_id: int, key: str, action: str = "trigger",
           **fields: Any) -> IngestResult:
    """The pipeline as detection calls it (a service id, no integration)."""
    event = NormalizedEvent(action=EventAction(action), dedup_key=key,
                            summary=f"{key} failing", source="check:1",
                            occurred_at=runtime.clock.now(), service_id=service_id, **fields)
    with runtime.sessions() as session, session.begin():
        return ingest_event(session, event, now=runtime.clock.now(), settings=runtime.settings)


def received(got: list[tuple[dict[str, str], bytes]]) -> list[dict[str, Any]]:
    events = []
    for headers, body in got:
        assert verify(body, headers["X-Tocsin-Signature"], SECRET)
        event = json.loads(body)
        assert headers["X-Tocsin-Event"] == event["type"] and event["version"] == 1
        events.append(event)
    return events


def test_alert_created_acknowledged_and_resolved_reach_a_subscription(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        responder: Account) -> None:
    watched, other = new_service(runtime, "checkout"), new_service(runtime, "search")
    with receiver([503]) as (got, url):
        r = client.post("/api/v1/webhooks", headers=admin.headers, json={
            "name": "alerts", "url": url, "secret": SECRET, "service_ids": [watched],
            "event_types": ["alert.created", "alert.acknowledged", "alert.resolved"]})
        assert r.status_code == 201, r.text
        sub = r.json()
        first = ingest(runtime, watched, "disk-full", severity="critical")
        assert first.outcome == "created" and first.incident_id is not None
        ingest(runtime, other, "disk-full")  # another service: filtered out
        assert ingest(runtime, watched, "disk-full").outcome == "deduplicated"  # no event
        assert deliver(runtime) == 1 and len(got) == 1  # created: answered 503
        clock.advance(seconds=16)
        assert deliver(runtime) == 1 and got[0][1] == got[1][1]  # retried, the same bytes
        clock.advance(minutes=1)
        assert ingest(runtime, watched, "disk-full", "acknowledge").outcome == "acknowledged"
        clock.advance(minutes=1)
        assert ingest(runtime, watched, "disk-full", "resolve").outcome == "resolved"
        # A maintenance window: the alert is created but no incident takes it.
        assert client.post("/api/v1/maintenance-windows", headers=responder.headers, json={
            "name": "upgrade", "service_id": watched, "starts_at": clock.now().isoformat(),
            "ends_at": (clock.now() + timedelta(minutes=30)).isoformat()}).status_code == 201
        assert ingest(runtime, watched, "cpu-hot").outcome == "suppressed"
        # Its repeat goes through triage again (the window may have ended), but the alert
        # was already firing: not a new event.
        assert ingest(runtime, watched, "cpu-hot").outcome == "suppressed"
        while deliver(runtime):
            pass

    events = received(got[1:])
    assert [(e["type"], e["data"]["outcome"]) for e in events] == [
        ("alert.created", "created"), ("alert.acknowledged", "acknowledged"),
        ("alert.resolved", "resolved"), ("alert.created", "suppressed")]
    created, acked, resolved, suppressed = events
    assert created["alert"]["id"] == first.alert_id
    assert created["alert"]["service_id"] == watched
    assert created["data"]["accepted"] is True
    assert created["incident"]["id"] == first.incident_id
    assert created["incident"]["url"].endswith(f"/incidents/{first.incident_id}")
    assert acked["alert"]["status"] == "acknowledged"
    assert resolved["alert"]["status"] == "resolved"
    assert suppressed["data"]["accepted"] is False and suppressed["incident"] is None
    assert "upgrade" in suppressed["alert"]["suppressed_by"]

    log = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries",
                     headers=admin.headers).json()["items"]
    assert [d["event_type"] for d in log][-1] == "alert.created"
    assert [a["response_status"] for a in log[-1]["log"]] == [503, 200]
    assert all(d["status"] == "sent" for d in log)


def test_severity_filter_and_incident_only_subscriptions_leave_alerts_out(
        client: TestClient, runtime: Runtime, admin: Account) -> None:
    svc = new_service(runtime, "payments")
    with receiver([]) as (got, url):
        for body in ({"event_types": ["incident.declared"]}, {"severities": ["SEV1"]}):
            assert client.post("/api/v1/webhooks", headers=admin.headers, json={
                "name": "x", "url": url, "secret": SECRET, **body}).status_code == 201
        low = ingest(runtime, svc, "slow-page", severity="info")
        assert low.severity != "SEV1"
        while deliver(runtime):
            pass
    assert sorted(e["type"] for e in received(got)) == ["incident.declared"]


def test_alerts_of_a_restricted_incident_are_not_published(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account) -> None:
    svc = new_service(runtime, "ledger")
    with receiver([]) as (got, url):
        assert client.post("/api/v1/webhooks", headers=admin.headers, json={
            "name": "x", "url": url, "secret": SECRET,
            "event_types": ["alert.resolved"]}).status_code == 201
        fired = ingest(runtime, svc, "breach")
        r = client.patch(f"/api/v1/incidents/{fired.incident_id}", headers=admin.headers,
                         json={"restricted": True})
        assert r.status_code == 200, r.text
        assert ingest(runtime, svc, "breach", "resolve").outcome == "resolved"
        while deliver(runtime):
            pass
    assert got == []
