"""Through the inbox, events for one dedup key are applied in arrival order; a row whose
triage keeps failing is marked failed, listed by the API, counted in the metrics, and can
be retried; nothing is applied twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, drain_intake
from tocsin.clock import FrozenClock
from tocsin.engine.worker import JobContext
from tocsin.intake import jobs as intake_jobs
from tocsin.runtime import Runtime


def pd(key: str, action: str, dedup_key: str) -> dict[str, Any]:
    return {"routing_key": key, "event_action": action, "dedup_key": dedup_key,
            "payload": {"summary": f"{dedup_key} failing", "source": "x", "severity": "error"}}


def test_trigger_then_resolve_keep_their_order(client: TestClient, runtime: Runtime,
                                               admin: Account, clock: FrozenClock,
                                               make_integration: Callable[..., Any]) -> None:
    key = make_integration("pagerduty")["key"]
    # Both accepted before any triage; the processor must apply them in arrival order.
    for action, dedup_key in [("trigger", "a"), ("resolve", "a"), ("resolve", "b"),
                              ("trigger", "b")]:
        assert client.post("/v2/enqueue", json=pd(key, action, dedup_key)).status_code == 202
    assert drain_intake(runtime) == 4
    alerts = {a["dedup_key"]: a for a in client.get(
        "/api/v1/alerts", headers=admin.headers).json()["items"]}
    assert alerts["a"]["status"] == "resolved"  # trigger, then resolve
    assert alerts["b"]["status"] == "firing"  # the resolve came first and named nothing
    incident = client.get(f"/api/v1/incidents/{alerts['a']['incident_id']}",
                          headers=admin.headers).json()
    assert incident["status"] == "resolved"
    assert drain_intake(runtime) == 0  # processed rows are not applied again
    log = client.get(f"/api/v1/alerts/{alerts['a']['id']}/events",
                     headers=admin.headers).json()
    assert [e["action"] for e in log] == ["trigger", "resolve"]
    done = client.get("/api/v1/intake/inbox", params={"status": "done"},
                      headers=admin.headers).json()["items"]
    assert [r["outcome"][0]["outcome"] for r in done] == [
        "created", "resolved", "ignored", "created"]
    assert all(r["body"] == "" for r in done)  # the alert event log keeps the payload

    # Outcomes are kept for the retention period (60 min), then forgotten.
    ctx = JobContext(runtime, "test", {})
    clock.advance(minutes=59)
    assert intake_jobs.housekeeping(ctx) == 0
    clock.advance(minutes=2)
    assert intake_jobs.housekeeping(ctx) == 4


def test_failing_row_is_marked_failed_listed_and_retryable(
        client: TestClient, runtime: Runtime, admin: Account, viewer: Account,
        make_integration: Callable[..., Any]) -> None:
    doomed, kept = make_integration("pagerduty"), make_integration("pagerduty")
    assert client.post("/v2/enqueue", json=pd(doomed["key"], "trigger", "x")).status_code == 202
    assert client.post("/v2/enqueue", json=pd(kept["key"], "trigger", "y")).status_code == 202
    # The integration disappears between accept and triage: its row cannot be applied.
    r = client.delete(f"/api/v1/integrations/{doomed['id']}", headers=admin.headers)
    assert r.status_code == 204
    drain_intake(runtime)

    [failed] = client.get("/api/v1/intake/inbox", params={"status": "failed"},
                          headers=viewer.headers).json()["items"]
    assert failed["integration_id"] == doomed["id"] and failed["attempts"] == 3
    assert "no longer exists" in failed["error"] and '"dedup_key":"x"' in failed["body"]
    assert client.get("/api/v1/intake/inbox", params={"status": "pending"},
                      headers=viewer.headers).json()["items"] == []
    [alert] = client.get("/api/v1/alerts", headers=admin.headers).json()["items"]
    assert alert["dedup_key"] == "y"  # the other row was not held back

    health = client.get("/api/v1/health").json()
    assert (health["intake_backlog"], health["intake_failed"]) == (0, 1)
    ctx = JobContext(runtime, "test", {})
    intake_jobs.housekeeping(ctx)
    scraper = TestClient(client.app, client=("127.0.0.1", 50000))  # /metrics: loopback only
    metrics = scraper.get("/metrics").text
    assert 'tocsin_intake_inbox_rows{status="failed"} 1.0' in metrics
    assert 'tocsin_intake_inbox_rows{status="pending"} 0.0' in metrics

    assert client.post(f"/api/v1/intake/inbox/{failed['id']}/retry",
                       headers=viewer.headers).status_code == 403
    r = client.post(f"/api/v1/intake/inbox/{failed['id']}/retry", headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert client.post(f"/api/v1/intake/inbox/{failed['id']}/retry",
                       headers=admin.headers).status_code == 404
