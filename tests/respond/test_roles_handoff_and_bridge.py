"""Roles beyond the three, an IC handoff with its note, and the incident's bridge."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def test_ic_hands_over_to_the_next_ic_with_a_note(
        client: TestClient, responder: Account, make_account: Any, make_incident: Any,
        clock: FrozenClock) -> None:
    nxt = make_account(name="Nina Next")
    inc = make_incident(severity="SEV1")
    iid, h = inc["id"], responder.headers
    assert client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=h).json()[
        "commander_id"] == responder.id
    clock.advance(minutes=30)
    r = client.post(f"/api/v1/incidents/{iid}/handoff", headers=h, json={
        "role": "commander", "to_user_id": nxt.id,
        "note": "DB failover done; waiting on the CDN ticket 4411"})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == nxt.id and "commander" in r.json()["description"]
    assert client.get(f"/api/v1/incidents/{iid}", headers=h).json()["commander_id"] == nxt.id
    events = client.get(f"/api/v1/incidents/{iid}/timeline", headers=h).json()
    handoff = [e for e in events if e["kind"] == "role_handoff"]
    assert len(handoff) == 1
    assert handoff[0]["data"] == {"role": "commander", "from": responder.id, "to": nxt.id,
                                  "note": "DB failover done; waiting on the CDN ticket 4411"}
    assert handoff[0]["actor_id"] == responder.id
    # Handing it to the one who has it is refused; so is a handoff without a note.
    r = client.post(f"/api/v1/incidents/{iid}/handoff", headers=h,
                    json={"role": "commander", "to_user_id": nxt.id, "note": "again"})
    assert r.status_code == 409
    r = client.post(f"/api/v1/incidents/{iid}/handoff", headers=h,
                    json={"role": "commander", "to_user_id": responder.id, "note": ""})
    assert r.status_code == 422


def test_admin_defined_role_shows_its_description_to_the_taker(
        client: TestClient, admin: Account, responder: Account, make_incident: Any) -> None:
    r = client.post("/api/v1/roles", headers=admin.headers, json={
        "name": "scribe", "description": "Keep the timeline: every decision, with its why."})
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/roles", headers=admin.headers,
                       json={"name": "scribe"}).status_code == 409
    assert client.post("/api/v1/roles", headers=responder.headers,
                       json={"name": "sme"}).status_code == 403
    inc = make_incident()
    r = client.post(f"/api/v1/incidents/{inc['id']}/responders", headers=responder.headers,
                    json={"role": "scribe", "user_id": responder.id})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "Keep the timeline: every decision, with its why."
    holders = client.get(f"/api/v1/incidents/{inc['id']}/responders",
                         headers=responder.headers).json()
    assert {"role": "scribe", "user_id": responder.id, "built_in": False,
            "description": "Keep the timeline: every decision, with its why."} in holders
    assert [h["role"] for h in holders][:3] == ["commander", "tech_lead", "comms_lead"]
    events = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                        headers=responder.headers).json()
    assert any(e["kind"] == "role_changed" and e["data"]["role"] == "scribe" for e in events)


def test_unknown_roles_are_refused(client: TestClient, responder: Account,
                                   make_incident: Any) -> None:
    inc = make_incident()
    for path, body in (("responders", {"role": "wizard", "user_id": responder.id}),
                       ("handoff", {"role": "wizard", "to_user_id": responder.id,
                                    "note": "n"})):
        r = client.post(f"/api/v1/incidents/{inc['id']}/{path}", json=body,
                        headers=responder.headers)
        assert r.status_code == 422, r.text
        assert "no role named 'wizard'" in r.json()["detail"]


def test_bridge_by_hand_and_non_http_links_refused(
        client: TestClient, responder: Account, make_incident: Any) -> None:
    inc = make_incident()
    url = f"/api/v1/incidents/{inc['id']}/bridge"
    for bad in ("javascript:alert(1)", "ftp://meet.example.com/x", "zoommtg://zoom.us/join"):
        r = client.put(url, json={"url": bad}, headers=responder.headers)
        assert r.status_code == 422, bad
    # No template configured: asking for a generated link says how to get one.
    assert client.put(url, json={}, headers=responder.headers).status_code == 422
    r = client.put(url, json={"url": "https://meet.example.com/inc-war-room"},
                   headers=responder.headers)
    assert r.status_code == 200, r.text
    shown = client.get(f"/api/v1/incidents/{inc['id']}", headers=responder.headers).json()
    assert shown["bridge_url"] == "https://meet.example.com/inc-war-room"
    events = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                        headers=responder.headers).json()
    assert [e["data"]["to"] for e in events if e["kind"] == "bridge_set"] == \
        ["https://meet.example.com/inc-war-room"]
