"""A round-robin team target pages its members in turn, counted per policy level in the
database (not guessed from incident ids), so consecutive incidents share the load."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, pages_to, reachable_people, worker
from tests.notify.servers import Inbox
from tocsin.runtime import Runtime


def test_round_robin_team_pages_members_in_turn(
        client: TestClient, runtime: Runtime, smtp: tuple[Inbox, int], admin: Account,
        make_account: Any) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    alice, bob = reachable_people(client, w, inbox, make_account, "Alice", "Bob")
    h = admin.headers
    team = client.post("/api/v1/teams", headers=h, json={
        "name": "db-team", "member_ids": [alice.id, bob.id]}).json()
    policy = client.post("/api/v1/escalation-policies", headers=h, json={
        "name": "rr", "levels": [{"delay_minutes": 5, "targets": [
            {"kind": "team", "id": team["id"], "mode": "round_robin"}]}]}).json()
    svc = client.post("/api/v1/services", headers=h, json={"name": "db"}).json()
    client.put(f"/api/v1/services/{svc['id']}/escalation-policies", headers=h,
               json={"policies": {"SEV2": policy["id"]}})
    other = client.post("/api/v1/services", headers=h, json={"name": "unpaged"}).json()
    order = []
    for n in range(4):
        # Incidents on another service in between shift the ids, not the turns.
        client.post("/api/v1/incidents", headers=h, json={
            "title": f"noise {n}", "severity": "SEV2", "service_ids": [other["id"]]})
        iid = client.post("/api/v1/incidents", headers=h, json={
            "title": f"disk {n}", "severity": "SEV2", "service_ids": [svc["id"]]}).json()["id"]
        drain(w)
        order += [who for who in ("alice", "bob") if pages_to(inbox, f"{who}@x.io", iid)]
    assert order == ["alice", "bob", "alice", "bob"]
