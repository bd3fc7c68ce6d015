"""Each team's members get the weekly digest by email, through the outbox, received by a real
SMTP server on loopback; once a week, and restricted incidents counted but never named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.analytics.jobs import weekly_digest
from tocsin.clock import FrozenClock
from tocsin.engine.worker import JobContext
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def settings(smtp_settings: Settings) -> Settings:
    return smtp_settings


def test_team_members_receive_the_weekly_digest_once(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        make_account: Any, smtp: tuple[Inbox, int]) -> None:
    inbox = smtp[0]
    w = worker(runtime)
    ana = make_account(name="Ana")
    verified_email(client, w, inbox, ana, "ana@x.io")
    team = client.post("/api/v1/teams", headers=admin.headers,
                       json={"name": "Payments", "member_ids": [ana.id]}).json()
    svc = client.post("/api/v1/services", headers=admin.headers,
                      json={"name": "checkout", "owner_team_id": team["id"]}).json()
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))  # a Monday, the week before
    late = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Checkout failing", "severity": "SEV1", "service_ids": [svc["id"]]}).json()
    client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Card data exposed", "severity": "SEV1", "restricted": True,
        "service_ids": [svc["id"]]})
    clock.advance(minutes=12)
    client.post(f"/api/v1/incidents/{late['id']}/acknowledge", headers=admin.headers)
    clock.advance(minutes=48)
    client.post(f"/api/v1/incidents/{late['id']}/resolve", headers=admin.headers,
                json={"resolution_summary": "rolled back"})

    ctx = JobContext(runtime=runtime, worker_id="test", handlers={})
    clock.set(datetime(2026, 12, 7, 7, 59, tzinfo=UTC))  # Monday, before 08:00: not yet
    assert weekly_digest(ctx) == 0
    clock.set(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    assert weekly_digest(ctx) == 1
    drain(w)
    [mail] = [m for m in inbox.to("ana@x.io") if "weekly digest" in m["Subject"]]
    assert mail["Subject"] == "Tocsin weekly digest for Payments: 2 incidents"
    body = body_of(mail)
    assert "Incidents: 2 (SEV1 2)" in body
    assert "MTTA  mean  12m 00s  median  12m 00s  p90  12m 00s  (n=1)" in body
    assert f"missed the acknowledgement target: {late['number']} and 1 restricted" in body
    assert "Card data exposed" not in body and "Checkout failing" not in body
    assert "Ana: 0 pages" in body

    clock.advance(hours=1)
    assert weekly_digest(ctx) == 0  # once a week
    drain(w)
    assert len([m for m in inbox.to("ana@x.io") if "weekly digest" in m["Subject"]]) == 1
