"""A declared incident gets the checklists that apply; tasks are done on the timeline."""

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def _template(client: TestClient, admin: Account, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/checklists", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _tasks(client: TestClient, who: Account, iid: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/incidents/{iid}/tasks", headers=who.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_sev1_declared_gets_its_checklist_and_a_done_task_is_on_the_timeline(
        client: TestClient, admin: Account, responder: Account, make_incident: Any,
        clock: FrozenClock) -> None:
    _template(client, admin, name="SEV1 basics", severity="SEV1",
              items=["assign comms", "open status page post", "page the database SME"])
    _template(client, admin, name="any incident", items=["write the first update"])
    inc = make_incident(title="Checkout down", severity="SEV1")
    tasks = _tasks(client, responder, inc["id"])
    titles = sorted(t["title"] for t in tasks["items"])
    assert titles == ["assign comms", "open status page post", "page the database SME",
                      "write the first update"]
    assert tasks["open"] == 4
    clock.advance(minutes=3)
    first = next(t for t in tasks["items"] if t["title"] == "assign comms")
    r = client.patch(f"/api/v1/incidents/{inc['id']}/tasks/{first['id']}",
                     json={"done": True}, headers=responder.headers)
    assert r.status_code == 200, r.text
    assert r.json()["done_by_id"] == responder.id and r.json()["status"] == "done"
    assert datetime.fromisoformat(r.json()["done_at"]) == clock.now()
    assert _tasks(client, responder, inc["id"])["open"] == 3
    events = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                        headers=responder.headers).json()
    done = [e for e in events if e["kind"] == "task_done"]
    assert len(done) == 1 and done[0]["actor_id"] == responder.id
    assert done[0]["body"] == "task done: assign comms"
    added = [e for e in events if e["kind"] == "task_added"]
    assert len(added) == 2  # one entry per checklist


def test_a_sev3_gets_only_the_checklists_for_any_severity(
        client: TestClient, admin: Account, responder: Account, make_incident: Any) -> None:
    _template(client, admin, name="SEV1 basics", severity="SEV1", items=["assign comms"])
    _template(client, admin, name="SEV3 and up", severity="SEV3", items=["note impact"])
    inc = make_incident(severity="SEV4")
    assert _tasks(client, responder, inc["id"])["items"] == []
    inc = make_incident(severity="SEV3")
    assert [t["title"] for t in _tasks(client, responder, inc["id"])["items"]] == ["note impact"]


def test_raising_severity_adds_the_new_checklists_once(
        client: TestClient, admin: Account, responder: Account, make_incident: Any) -> None:
    _template(client, admin, name="SEV1 basics", severity="SEV1", items=["assign comms"])
    _template(client, admin, name="SEV2 basics", severity="SEV2", items=["open a bridge"])
    inc = make_incident(severity="SEV3")
    assert _tasks(client, responder, inc["id"])["items"] == []
    for sev in ("SEV2", "SEV1", "SEV3", "SEV1"):
        r = client.post(f"/api/v1/incidents/{inc['id']}/severity",
                        json={"severity": sev, "reason": "scope"}, headers=responder.headers)
        assert r.status_code == 200, r.text
    titles = sorted(t["title"] for t in _tasks(client, responder, inc["id"])["items"])
    assert titles == ["assign comms", "open a bridge"]


def test_checklist_for_a_service_goes_only_to_its_incidents(
        client: TestClient, admin: Account, responder: Account, make_incident: Any) -> None:
    svc = client.post("/api/v1/services", json={"name": "payments"}, headers=admin.headers)
    assert svc.status_code == 201, svc.text
    _template(client, admin, name="payments", service_id=svc.json()["id"],
              items=["call the payment provider"])
    other = make_incident()
    mine = make_incident(service_ids=[svc.json()["id"]])
    assert _tasks(client, responder, other["id"])["items"] == []
    assert [t["title"] for t in _tasks(client, responder, mine["id"])["items"]] == \
        ["call the payment provider"]


def test_ad_hoc_task_with_an_assignee_and_refused_on_a_closed_incident(
        client: TestClient, responder: Account, make_account: Any, make_incident: Any,
        clock: FrozenClock) -> None:
    helper = make_account(name="Hal Helper")
    inc = make_incident(severity="SEV4")
    iid, h = inc["id"], responder.headers
    r = client.post(f"/api/v1/incidents/{iid}/tasks",
                    json={"title": "check the CDN", "assignee_id": helper.id}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["assignee_id"] == helper.id and r.json()["status"] == "open"
    r = client.post(f"/api/v1/incidents/{iid}/tasks", json={"title": "x", "assignee_id": 999999},
                    headers=h)
    assert r.status_code == 422
    # Open tasks block nothing: resolve and close while one is open.
    assert client.post(f"/api/v1/incidents/{iid}/resolve",
                       json={"resolution_summary": "fixed", "users_affected": 0},
                       headers=h).status_code == 200
    clock.advance(hours=3)
    assert client.post(f"/api/v1/incidents/{iid}/close", json={},
                       headers=h).status_code == 200
    r = client.post(f"/api/v1/incidents/{iid}/tasks", json={"title": "late"}, headers=h)
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    task = _tasks(client, responder, iid)["items"][0]
    r = client.patch(f"/api/v1/incidents/{iid}/tasks/{task['id']}", json={"done": True},
                     headers=h)
    assert r.status_code == 409


def test_only_admins_define_checklists(client: TestClient, responder: Account) -> None:
    r = client.post("/api/v1/checklists", json={"name": "x", "items": ["a"]},
                    headers=responder.headers)
    assert r.status_code == 403
