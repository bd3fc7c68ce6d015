"""/metrics carries incident and paging figures read from the database: open incidents by
severity and status, the acknowledgement-latency histogram, pages by channel and outcome."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Account
from tests.notify.paging import drain, paging_setup, verified_email, worker
from tests.notify.servers import Inbox
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def settings(smtp_settings: Settings) -> Settings:
    return smtp_settings


def _samples(runtime: Runtime) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    scraper = TestClient(create_app(runtime), client=("127.0.0.1", 50000))
    r = scraper.get("/metrics")
    assert r.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_metrics_show_ack_latency_open_incidents_and_pages(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        make_account: Any, smtp: tuple[Inbox, int]) -> None:
    w = worker(runtime)
    primary, secondary = make_account(name="Pat"), make_account(name="Sam")
    verified_email(client, w, smtp[0], primary, "pat@x.io")
    setup = paging_setup(client, admin, primary, secondary)
    paged = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "DB down", "severity": "SEV1",
        "service_ids": [setup["service"]["id"]]}).json()
    client.post("/api/v1/incidents", headers=admin.headers,
                json={"title": "Slow page", "severity": "SEV3"})
    drain(w)
    clock.advance(seconds=90)
    assert client.post(f"/api/v1/incidents/{paged['id']}/acknowledge",
                       headers=primary.headers).status_code == 200

    got = _samples(runtime)
    sev1 = (("severity", "SEV1"),)
    assert got[("tocsin_incident_ack_seconds_count", sev1)] == 1
    assert got[("tocsin_incident_ack_seconds_sum", sev1)] == 90
    assert got[("tocsin_incident_ack_seconds_bucket", (("le", "60.0"), *sev1))] == 0
    assert got[("tocsin_incident_ack_seconds_bucket", (("le", "120.0"), *sev1))] == 1
    assert got[("tocsin_incidents_by_status", (("severity", "SEV3"),
                                               ("status", "triggered")))] == 1
    assert got[("tocsin_pages", (("channel", "email"), ("outcome", "sent")))] == 1
