"""Pages really sent (escalation → outbox → a real SMTP server on loopback) are counted per
person in that person's own time zone: one page at 12:00 UTC is a sleep-hours page for the
primary in Los Angeles and a working-hours page for the secondary in Berlin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, pages_to, paging_setup, verified_email, worker
from tests.notify.servers import Inbox
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def settings(smtp_settings: Settings) -> Settings:
    return smtp_settings


def test_offhours_pages_are_counted_in_each_persons_time_zone(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        make_account: Any, smtp: tuple[Inbox, int]) -> None:
    inbox = smtp[0]
    w = worker(runtime)
    lena = make_account(name="Lena", time_zone="America/Los_Angeles")
    bo = make_account(name="Bo", time_zone="Europe/Berlin")
    verified_email(client, w, inbox, lena, "lena@x.io")
    verified_email(client, w, inbox, bo, "bo@x.io")
    setup = paging_setup(client, admin, lena, bo)
    clock.set(datetime(2026, 1, 7, 12, 0, tzinfo=UTC))  # Wednesday: 04:00 LA, 13:00 Berlin
    iid = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Payments down", "severity": "SEV1",
        "service_ids": [setup["service"]["id"]]}).json()["id"]
    drain(w)
    clock.advance(minutes=5)  # nobody acknowledged: the secondary is paged too
    drain(w)
    clock.advance(minutes=6)
    drain(w)
    assert pages_to(inbox, "lena@x.io", iid) >= 1 and pages_to(inbox, "bo@x.io", iid) >= 1

    r = client.get("/api/v1/metrics/oncall?tz=UTC", headers=admin.headers)
    assert r.status_code == 200, r.text
    people = {p["name"]: p for p in r.json()["people"]}
    assert people["Lena"]["time_zone"] == "America/Los_Angeles"
    assert (people["Lena"]["off_hours"], people["Lena"]["sleep_hours"]) == (
        people["Lena"]["pages"], people["Lena"]["pages"])
    assert people["Lena"]["pages"] >= 1 and people["Lena"]["interrupted_nights"] == 1
    assert people["Bo"]["pages"] >= 1
    assert (people["Bo"]["off_hours"], people["Bo"]["sleep_hours"]) == (0, 0)
    assert r.json()["by_channel"].get("email", 0) >= 2
    heat = r.json()["heat_map"]
    assert sum(heat[2]) == sum(map(sum, heat))  # every page on Wednesday (UTC)
    csv = client.get("/api/v1/metrics/oncall.csv", headers=admin.headers).text
    assert "America/Los_Angeles" in csv
