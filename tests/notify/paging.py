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
