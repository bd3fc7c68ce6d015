"""At a shift change the incoming person receives a briefing email (open incidents, changes,
noisy alerts) from a real SMTP server; the next handoff is armed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.engine import timers
from tocsin.runtime import Runtime
from tocsin.schedules.handoff import timer_key
from tocsin.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(database_url=database_url, smtp_port=smtp[1])


def test_incoming_person_gets_a_briefing(client: TestClient, runtime: Runtime,
                                         clock: FrozenClock, smtp: tuple[Inbox, int],
                                         admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    verified_email(client, w, inbox, alice, "alice@x.io")
    verified_email(client, w, inbox, bob, "bob@x.io")
    # Daily handoff at 18:00 UTC; the clock starts Mon 5 Jan 12:00 with Alice on call.
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "ops", "time_zone": "UTC", "layers": [{
            "name": "daily", "participants": [alice.id, bob.id], "unit": "days",
            "start": "2026-01-04T18:00:00"}]})
    sid = r.json()["id"]
    with runtime.sessions() as s:
        pending = timers.pending(s, timer_key(sid))
        assert pending is not None
        assert pending.due_at == datetime(2026, 1, 5, 18, tzinfo=UTC)
    client.post("/api/v1/incidents", headers=admin.headers,
                json={"title": "Queue backlog growing", "severity": "SEV3"})
    clock.set(datetime(2026, 1, 5, 18, 0, 1, tzinfo=UTC))
    drain(w)
    briefs = [m for m in inbox.to("bob@x.io") if m["Subject"].startswith("On call now")]
    assert [m["Subject"] for m in briefs] == ["On call now: ops (1 open incidents)"]
    text = body_of(briefs[0])
    assert "Queue backlog growing" in text and "Noisiest alerts" in text
    assert not [m for m in inbox.to("alice@x.io") if m["Subject"].startswith("On call now")]
    with runtime.sessions() as s:
        nxt = timers.pending(s, timer_key(sid))
        assert nxt is not None and nxt.due_at == datetime(2026, 1, 6, 18, tzinfo=UTC)
