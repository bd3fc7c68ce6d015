"""A drill (game day) never reaches a real event webhook receiver: subscriptions skip drill
incidents unless they ask for them with `include_drills`."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.webhooks.test_event_webhooks import SECRET, deliver, receiver
from tocsin.runtime import Runtime
from tocsin.webhooks.events import Facts, Filter, matches


def test_the_drill_rule_is_pure() -> None:
    drill = Facts("incident.declared", frozenset(), frozenset(), "SEV2", drill=True)
    real = Facts("incident.declared", frozenset(), frozenset(), "SEV2")
    plain = Filter(1, frozenset(), frozenset(), frozenset(), frozenset())
    rehearsal = Filter(2, frozenset(), frozenset(), frozenset(), frozenset(),
                       include_drills=True)
    assert (matches(plain, drill), matches(plain, real)) == (False, True)
    assert (matches(rehearsal, drill), matches(rehearsal, real)) == (True, True)


def _incidents(got: list[tuple[dict[str, str], bytes]]) -> list[tuple[str, bool]]:
    out = []
    for _headers, body in got:
        event = json.loads(body)
        out.append((event["type"], event["incident"]["title"].startswith("[DRILL] ")))
    return out


def test_subscriptions_skip_drills_unless_they_include_them(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account,
        make_incident: Any) -> None:
    with receiver([]) as (real_got, real_url), receiver([]) as (drill_got, drill_url):
        real = client.post("/api/v1/webhooks", headers=admin.headers, json={
            "name": "ticketing", "url": real_url, "secret": SECRET}).json()
        assert real["include_drills"] is False
        rehearsal = client.post("/api/v1/webhooks", headers=admin.headers, json={
            "name": "game-day bot", "url": drill_url, "secret": SECRET,
            "include_drills": True}).json()
        assert rehearsal["include_drills"] is True
        scenario = client.post("/api/v1/drills/scenarios", headers=admin.headers, json={
            "name": "cache down", "alert_title": "Cache cluster unreachable",
            "severity": "SEV2"}).json()
        drill = client.post("/api/v1/drills", headers=admin.headers, json={
            "scenario_id": scenario["id"], "participant_ids": [responder.id]})
        assert drill.status_code == 201, drill.text
        iid = drill.json()["incident_id"]
        client.post(f"/api/v1/incidents/{iid}/entries", headers=responder.headers,
                    json={"kind": "note", "body": "rehearsing"})
        client.post(f"/api/v1/incidents/{iid}/resolve", headers=responder.headers, json={})
        make_incident(title="Checkout down", severity="SEV2")
        while deliver(runtime):
            pass
        assert _incidents(real_got) == [("incident.declared", False)]
        drill_events = _incidents(drill_got)
        assert ("incident.declared", True) in drill_events
        assert ("incident.note_added", True) in drill_events
        assert ("incident.resolved", True) in drill_events
        assert drill_events[-1] == ("incident.declared", False)

        # The flag can be changed later, and the change is kept.
        r = client.patch(f"/api/v1/webhooks/{real['id']}", headers=admin.headers,
                         json={"include_drills": True})
        assert r.status_code == 200 and r.json()["include_drills"] is True
        client.post(f"/api/v1/incidents/{iid}/entries", headers=responder.headers,
                    json={"kind": "note", "body": "after the drill"})
        while deliver(runtime):
            pass
        assert _incidents(real_got)[-1] == ("incident.note_added", True)
