"""Must show: a drill run end to end — from a scenario on a service whose real policy pages
Alice (on call) then Bob — pages only the drill's participants at every escalation level,
is marked as a drill, makes no post-mortem or suggestion, and reports times vs targets."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.notify.paging import drain, pages_to, paging_setup, reachable_people, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.incidents.models import Incident, not_drill
from tocsin.notify.models import Message
from tocsin.runtime import Runtime


def test_drill_end_to_end_pages_only_participants(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    alice, bob, carol, dave = reachable_people(client, w, inbox, make_account,
                                               "Alice", "Bob", "Carol", "Dave")
    setup = paging_setup(client, admin, alice, bob)
    scenario = client.post("/api/v1/drills/scenarios", headers=admin.headers, json={
        "name": "db failover", "alert_title": "Primary database unreachable",
        "alert_text": "pg-primary down", "service_id": setup["service"]["id"],
        "severity": "SEV1"}).json()
    r = client.post("/api/v1/drills", headers=carol.headers, json={
        "scenario_id": scenario["id"], "participant_ids": [carol.id, dave.id]})
    assert r.status_code == 201, r.text
    drill = r.json()
    iid = drill["incident_id"]
    incident = client.get(f"/api/v1/incidents/{iid}", headers=admin.headers).json()
    assert incident["drill"] is True and incident["title"].startswith("[DRILL] ")

    drain(w)  # level 1 (Alice's schedule in real life) pages the participants
    assert (pages_to(inbox, "carol@x.io", iid), pages_to(inbox, "dave@x.io", iid)) == (1, 1)
    page_text = body_of(inbox.to("carol@x.io")[-1])
    assert "[DRILL]" in page_text and f"/incidents/{iid}#learning" in page_text  # runbooks
    clock.advance(minutes=6)
    drain(w)  # level 2 (Bob in real life): still only the participants
    timeline = client.get(f"/api/v1/incidents/{iid}/timeline", headers=admin.headers).json()
    assert [e["kind"] for e in timeline].count("escalated") == 2
    client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=dave.headers)
    clock.advance(minutes=2)
    client.post(f"/api/v1/incidents/{iid}/entries", headers=dave.headers,
                json={"kind": "note", "body": "failing over to replica"})
    clock.advance(minutes=20)
    client.post(f"/api/v1/incidents/{iid}/resolve", headers=dave.headers, json={})
    drain(w)
    clock.advance(hours=3)
    drain(w)

    # Nobody outside the drill got anything about it: no message row, no email.
    with runtime.sessions() as s:
        to = set(s.scalars(select(Message.user_id).where(Message.incident_id == iid)))
        assert to == {carol.id, dave.id}
        assert s.scalars(select(Incident.id).where(not_drill())).all() == []
    assert pages_to(inbox, "alice@x.io", iid) == 0 and pages_to(inbox, "bob@x.io", iid) == 0
    # A drill is practice: no post-mortem draft, no known-error suggestions.
    assert client.get(f"/api/v1/incidents/{iid}/postmortem",
                      headers=admin.headers).status_code == 404
    assert client.get(f"/api/v1/incidents/{iid}/suggestions",
                      headers=admin.headers).json()["items"] == []

    done = client.post(f"/api/v1/drills/{drill['id']}/finish", headers=carol.headers).json()
    assert done["status"] == "finished" and done["participant_ids"] == [carol.id, dave.id]
    report = {line["measure"]: line for line in done["report"]}
    assert report["acknowledge"]["took_seconds"] == 360 and report["acknowledge"]["met"] is False
    assert report["first_update"]["took_seconds"] == 480 and report["first_update"]["met"]
    assert report["resolve"]["took_seconds"] == 28 * 60 and report["resolve"]["met"] is True


def test_drill_without_policy_pages_participants_at_once(
        client: TestClient, runtime: Runtime, smtp: tuple[Inbox, int], admin: Account,
        make_account: Any) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    (erin,) = reachable_people(client, w, inbox, make_account, "Erin")
    scenario = client.post("/api/v1/drills/scenarios", headers=admin.headers, json={
        "name": "no policy", "alert_title": "Disk full", "severity": "SEV3"}).json()
    drill = client.post("/api/v1/drills", headers=admin.headers, json={
        "scenario_id": scenario["id"], "participant_ids": [erin.id]}).json()
    drain(w)
    assert pages_to(inbox, "erin@x.io", drill["incident_id"]) == 1
    r = client.post("/api/v1/drills", headers=admin.headers, json={
        "scenario_id": scenario["id"], "participant_ids": [98765]})
    assert r.status_code == 422 and "participant_ids" in r.text
