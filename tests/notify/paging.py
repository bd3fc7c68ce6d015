"""Setting up paging over the API, and driving the worker with the frozen clock."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.servers import Inbox, body_of
from tocsin.engine.worker import Job, Worker
from tocsin.jobs import TIMER_HANDLERS, run_timers
from tocsin.notify.jobs import deliver
from tocsin.runtime import Runtime


def worker(runtime: Runtime, worker_id: str = "test-worker") -> Worker:
    """Only the paging jobs, in production order (timers, then delivery)."""
    return Worker(runtime=runtime, jobs=[Job("timers", run_timers), Job("deliver", deliver)],
                  handlers=TIMER_HANDLERS, worker_id=worker_id)


def drain(w: Worker, rounds: int = 5) -> None:
    for _ in range(rounds):
        if w.run_cycle() == 0:
            return


def verified_email(client: TestClient, w: Worker, inbox: Inbox, who: Account,
                   address: str) -> int:
    """Add an email contact method and verify it with the code that really arrived."""
    r = client.post(f"/api/v1/users/{who.id}/contact-methods", headers=who.headers,
                    json={"kind": "email", "address": address})
    assert r.status_code == 201, r.text
    assert r.json()["verified"] is False
    drain(w)
    code = re.search(r"code is (\d{6})", body_of(inbox.to(address)[-1]))
    assert code is not None
    mid: int = r.json()["id"]
    r = client.post(f"/api/v1/contact-methods/{mid}/verify", headers=who.headers,
                    json={"code": code.group(1)})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    return mid


def reachable_people(client: TestClient, w: Worker, inbox: Inbox, make_account: Any,
                     *names: str) -> list[Account]:
    """Accounts named `names`, each with a verified email `<name in lower case>@x.io`."""
    people = [make_account(name=n) for n in names]
    for who, name in zip(people, names, strict=True):
        verified_email(client, w, inbox, who, f"{name.lower()}@x.io")
    return people


def pages_to(inbox: Inbox, address: str, iid: int) -> int:
    """Email pages `address` got about incident `iid`."""
    return sum(1 for m in inbox.to(address) if f"INC-{iid}:" in m["Subject"])


def paging_setup(client: TestClient, admin: Account, primary: Account, secondary: Account,
                 *, repeat: int = 0) -> dict[str, Any]:
    """A weekly schedule with `primary`, a SEV1 policy (schedule, then `secondary` after 5
    minutes), and a service using it."""
    sched = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "primary", "time_zone": "UTC", "layers": [{
            "name": "weekly", "participants": [primary.id], "unit": "weeks",
            "start": "2026-01-01T00:00:00"}]}).json()
    policy = client.post("/api/v1/escalation-policies", headers=admin.headers, json={
        "name": "sev1", "repeat": repeat, "levels": [
            {"delay_minutes": 5, "targets": [{"kind": "schedule", "id": sched["id"]}]},
            {"delay_minutes": 5, "targets": [{"kind": "user", "id": secondary.id}]}]})
    assert policy.status_code == 201, policy.text
    svc = client.post("/api/v1/services", headers=admin.headers,
                      json={"name": "payments", "tier": "critical"}).json()
    r = client.put(f"/api/v1/services/{svc['id']}/escalation-policies", headers=admin.headers,
                   json={"policies": {"SEV1": policy.json()["id"], "SEV2": policy.json()["id"]}})
    assert r.status_code == 200, r.text
    return {"schedule": sched, "policy": policy.json(), "service": svc}


def sev3_incident(client: TestClient, w: Worker, inbox: Inbox, admin: Account,
                  make_account: Any) -> tuple[int, list[Account]]:
    """Alice, Bob and Carol; the service of `paging_setup` (SEV1: Alice's schedule, then Bob)
    also has a SEV3 policy (Carol, then Bob after an hour); a SEV3 incident on it has paged
    Carol. Returns the incident id and the three accounts."""
    people = reachable_people(client, w, inbox, make_account, "Alice", "Bob", "Carol")
    alice, bob, carol = people
    setup = paging_setup(client, admin, alice, bob)
    slow = client.post("/api/v1/escalation-policies", headers=admin.headers, json={
        "name": "sev3", "levels": [
            {"delay_minutes": 60, "targets": [{"kind": "user", "id": carol.id}]},
            {"delay_minutes": 0, "targets": [{"kind": "user", "id": bob.id}]}]}).json()
    sid = setup["service"]["id"]
    client.put(f"/api/v1/services/{sid}/escalation-policies", headers=admin.headers,
               json={"policies": {"SEV1": setup["policy"]["id"], "SEV3": slow["id"]}})
    iid: int = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Search slow", "severity": "SEV3", "service_ids": [sid]}).json()["id"]
    drain(w)
    assert pages_to(inbox, "carol@x.io", iid) == 1
    return iid, people
