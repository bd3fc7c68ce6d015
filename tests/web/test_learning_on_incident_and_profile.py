"""The incident page's Learn card shows the post-mortem, known-error suggestions and action
items; the owner's profile lists their open action items, overdue ones marked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.clock import FrozenClock
from tocsin.engine.worker import Worker
from tocsin.jobs import JOBS, TIMER_HANDLERS
from tocsin.runtime import Runtime


def test_learn_card_and_profile_list(client: TestClient, runtime: Runtime, clock: FrozenClock,
                                     responder: Account, make_account: Any) -> None:
    owner = make_account(name="Olga Owner")
    h = responder.headers
    client.post("/api/v1/problems", headers=h, json={
        "title": "Redis eviction storm", "symptoms": "cache misses spike, redis evictions",
        "workaround": "raise maxmemory"})
    iid = client.post("/api/v1/incidents", headers=h, json={
        "title": "Redis evictions spike", "severity": "SEV2"}).json()["id"]
    Worker(runtime=runtime, jobs=JOBS, handlers=TIMER_HANDLERS, worker_id="t").run_cycle()
    client.post(f"/api/v1/incidents/{iid}/postmortem", headers=h, json={})
    client.post(f"/api/v1/incidents/{iid}/action-items", headers=h, json={
        "title": "Alert on eviction rate", "owner_id": owner.id,
        "due_at": (clock.now() + timedelta(hours=2)).isoformat()})

    with TestClient(client.app) as browser:
        web_login(browser, responder)
        page = browser.get(f"/incidents/{iid}").text
        assert "Known error:" in page and "Redis eviction storm" in page
        assert "raise maxmemory" in page and "Alert on eviction rate" in page
        assert "/postmortems/" in page
    clock.advance(hours=3)
    with TestClient(client.app) as browser:
        web_login(browser, owner)
        me = browser.get("/me").text
        assert "My action items" in me and "Alert on eviction rate" in me
        assert 'class="overdue"' in me
