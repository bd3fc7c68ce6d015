"""An incident walked through its whole life over the API, the timeline recording each step."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def test_full_lifecycle_with_timeline(client: TestClient, clock: FrozenClock,
                                      responder: Account, make_account: Any,
                                      make_incident: Any) -> None:
    lead = make_account(name="Tess Lead")
    h = responder.headers
    inc = make_incident(title="Payments failing", severity="SEV2",
                        detection_source="monitor",
                        impact_started_at=(clock.now() - timedelta(minutes=4)).isoformat())
    iid = inc["id"]
    assert inc["number"] == f"INC-{iid}" and inc["status"] == "triggered"

    def post(path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        clock.advance(minutes=1)
        r = client.post(f"/api/v1/incidents/{iid}/{path}", json=body, headers=h)
        assert r.status_code in (200, 201), r.text
        out: dict[str, Any] = r.json()
        return out

    assert post("acknowledge")["acknowledged_by_id"] == responder.id
    post("roles", {"role": "tech_lead", "user_id": lead.id})
    post("status", {"status": "investigating"})
    post("entries", {"kind": "hypothesis", "body": "bad deploy of payments-api 1.42"})
    post("entries", {"kind": "action", "body": "roll back to 1.41", "result": "errors drop"})
    post("entries", {"kind": "decision", "body": "keep 1.41", "reason": "1.42 is broken"})
    post("severity", {"severity": "SEV1", "reason": "all card payments failing"})
    post("status", {"status": "identified"})
    post("status", {"status": "monitoring"})
    resolved = post("resolve", {"resolution_summary": "rolled back to 1.41",
                                "users_affected": 1200})
    assert resolved["status"] == "resolved"
    assert resolved["recovery_until"] is not None
    # SEV1 watch is 2 h: closing now is refused, naming what is missing.
    r = client.post(f"/api/v1/incidents/{iid}/close", json={}, headers=h)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "recovery watch" in r.json()["detail"]
    clock.advance(hours=2, minutes=1)
    closed = post("close", {})
    assert closed["status"] == "closed" and closed["closed_at"] is not None

    events = client.get(f"/api/v1/incidents/{iid}/timeline", headers=h).json()
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "created"
    for kind in ("status_changed", "role_changed", "hypothesis", "action", "decision",
                 "severity_changed", "resolved", "closed"):
        assert kind in kinds, kind
    statuses = [e["data"]["to"] for e in events if e["kind"] == "status_changed"]
    assert statuses == ["acknowledged", "investigating", "identified", "monitoring",
                        "resolved", "closed"]
    decision = next(e for e in events if e["kind"] == "decision")
    assert decision["data"]["reason"] == "1.42 is broken" and decision["actor_id"] == responder.id
    action = next(e for e in events if e["kind"] == "action")
    assert action["data"]["result"] == "errors drop"
    times = [e["at"] for e in events]
    assert times == sorted(times)


def test_close_refused_lists_missing_fields(client: TestClient, clock: FrozenClock,
                                            responder: Account, make_incident: Any) -> None:
    iid = make_incident(severity="SEV4")["id"]
    client.post(f"/api/v1/incidents/{iid}/resolve", json={}, headers=responder.headers)
    clock.advance(minutes=20)
    r = client.post(f"/api/v1/incidents/{iid}/close", json={}, headers=responder.headers)
    assert r.status_code == 409
    missing = r.json()["missing"]
    assert any("resolution_summary" in m for m in missing)
    assert any("users_affected" in m for m in missing)
    shown = client.get(f"/api/v1/incidents/{iid}", headers=responder.headers).json()
    assert shown["status"] == "resolved" and shown["close_missing"] == missing


def test_illegal_transition_names_legal_ones_and_changes_nothing(
        client: TestClient, responder: Account, make_incident: Any) -> None:
    iid = make_incident()["id"]
    r = client.post(f"/api/v1/incidents/{iid}/status", json={"status": "closed"},
                    headers=responder.headers)
    assert r.status_code == 422
    r = client.post(f"/api/v1/incidents/{iid}/resolve", json={}, headers=responder.headers)
    r = client.post(f"/api/v1/incidents/{iid}/status", json={"status": "monitoring"},
                    headers=responder.headers)
    assert r.status_code == 409
    body = r.json()
    assert body["legal_next_statuses"] == ["closed"]
    assert "from 'resolved'" in body["detail"]
    events = client.get(f"/api/v1/incidents/{iid}/timeline", headers=responder.headers).json()
    assert [e["kind"] for e in events].count("status_changed") == 1
