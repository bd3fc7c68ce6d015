"""Must show: a new incident is matched to a known error and to its two most similar past
incidents (full-text search: SQLite FTS5, or PostgreSQL text search when the suite runs on
it); using the known error's suggestion is recorded and links the recurrence."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.engine.worker import Worker
from tocsin.jobs import JOBS, TIMER_HANDLERS
from tocsin.runtime import Runtime


def _engine(runtime: Runtime) -> None:
    Worker(runtime=runtime, jobs=JOBS, handlers=TIMER_HANDLERS, worker_id="t").run_cycle()


def _incident(client: TestClient, who: Account, runtime: Runtime, title: str,
              **extra: Any) -> int:
    r = client.post("/api/v1/incidents", headers=who.headers,
                    json={"title": title, "severity": "SEV3", **extra})
    assert r.status_code == 201, r.text
    iid: int = r.json()["id"]
    _engine(runtime)
    return iid


def test_new_incident_gets_the_known_error_and_two_most_similar_past_incidents(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account) -> None:
    pay = client.post("/api/v1/services", headers=admin.headers,
                      json={"name": "payments", "tier": "critical"}).json()["id"]
    other = client.post("/api/v1/services", headers=admin.headers,
                        json={"name": "search", "tier": "critical"}).json()["id"]
    problem = client.post("/api/v1/problems", headers=responder.headers, json={
        "title": "Card gateway connection pool exhausted",
        "symptoms": "payment gateway timeouts, 504 from /charge, pool exhausted in logs",
        "workaround": "restart the gateway proxy; raise pool to 200",
        "fix_status": "in_progress", "service_id": pay}).json()
    unrelated_problem = client.post("/api/v1/problems", headers=responder.headers, json={
        "title": "Search index lag", "symptoms": "stale search results after reindex"}).json()
    gateway_1 = _incident(client, responder, runtime, "Payment gateway timeouts on charge",
                          service_ids=[pay])
    gateway_2 = _incident(client, responder, runtime, "Gateway timeouts: 504 on /charge",
                          service_ids=[pay])
    _incident(client, responder, runtime, "Search results stale", service_ids=[other])
    _incident(client, responder, runtime, "Login page slow")
    restricted_one = _incident(client, responder, runtime, "Payment gateway timeouts (restricted)",
                           service_ids=[pay], restricted=True)

    new = _incident(client, responder, runtime, "Payment gateway timeouts, pool exhausted",
                    service_ids=[pay])
    found = client.get(f"/api/v1/incidents/{new}/suggestions",
                       headers=responder.headers).json()["items"]
    problems = [s for s in found if s["kind"] == "problem"]
    past = [s for s in found if s["kind"] == "incident"]
    assert problems[0]["target_id"] == problem["id"]
    assert problems[0]["workaround"].startswith("restart the gateway proxy")
    assert "same service" in problems[0]["reasons"]
    assert unrelated_problem["id"] not in [s["target_id"] for s in problems]
    assert {s["target_id"] for s in past[:2]} == {gateway_1, gateway_2}
    assert all(s["score"] < past[1]["score"] for s in past[2:])
    assert restricted_one not in [s["target_id"] for s in past]  # restricted: never suggested
    assert all(not s["used"] for s in found)

    used = client.post(f"/api/v1/suggestions/{problems[0]['id']}/use",
                       headers=responder.headers).json()
    assert used["used"] is True and used["used_at"]
    linked = client.get(f"/api/v1/problems/{problem['id']}", headers=responder.headers).json()
    assert linked["incident_ids"] == [new]


def test_link_to_a_missing_incident_is_404_and_writes_nothing(
        client: TestClient, responder: Account) -> None:
    p = client.post("/api/v1/problems", headers=responder.headers,
                    json={"title": "x"}).json()
    r = client.post(f"/api/v1/problems/{p['id']}/incidents", headers=responder.headers,
                    json={"incident_id": 99999})
    assert r.status_code == 404
    assert client.get(f"/api/v1/problems/{p['id']}", headers=responder.headers
                      ).json()["incident_ids"] == []
