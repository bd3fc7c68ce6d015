"""Noise statistics per integration and per routing rule: alerts, incidents, acknowledged
share, flapping alerts and alerts nobody acted on in the period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.alerts.models import Integration
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_noise_report(client: TestClient, admin: Account, responder: Account,
                      clock: FrozenClock, new_service: Callable[..., int],
                      ingest: Callable[..., Any]) -> None:
    sid = new_service()
    r = client.post("/api/v1/routing-rules", headers=admin.headers, json={
        "name": "tag disk", "actions": {"tags": ["disk"]},
        "conditions": [{"field": "summary", "op": "regex", "value": "disk.*"}]})
    rule_id = r.json()["id"]
    for _ in range(3):  # fires and clears three times: flapping
        ingest(sid, "flappy", summary="disk io slow")
        clock.advance(minutes=1)
        ingest(sid, "flappy", action="resolve")
        clock.advance(minutes=30)
    acted = ingest(sid, "acted", summary="api down")
    r = client.post(f"/api/v1/incidents/{acted.incident_id}/acknowledge",
                    headers=responder.headers)
    assert r.status_code == 200, r.text
    ingest(sid, "ignored", summary="disk nearly full")

    report = client.get("/api/v1/alert-noise", headers=admin.headers).json()
    [row] = report["integrations"]
    assert row["name"] == "detection (no integration)"
    assert row["alerts"] == 3 and row["flapping_alerts"] == 1
    assert row["incidents"] == 3  # flappy's latest, acted, ignored
    assert row["acknowledged_share"] == round(1 / 3, 3) and row["no_action_30d"] == 2
    [by_rule] = report["rules"]
    assert by_rule["id"] == rule_id and by_rule["alerts"] == 2 and by_rule["no_action_30d"] == 2


def test_each_integration_counts_its_own_alerts_and_an_incident_acknowledges_its_alerts(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account,
        clock: FrozenClock, new_service: Callable[..., int],
        ingest: Callable[..., Any]) -> None:
    sid = new_service()
    with runtime.sessions() as s, s.begin():
        ids = {}
        for name in ("alpha", "beta", "gamma"):
            row = Integration(service_id=sid, kind="generic", name=name, key=f"k-{name}",
                              created_at=clock.now())
            s.add(row)
            s.flush()
            ids[name] = row.id
    ingest(sid, "old", integration_id=ids["gamma"])  # before the period: no gamma row
    clock.advance(days=31)
    acked = ingest(sid, "a1", integration_id=ids["alpha"])
    ingest(sid, "a2", integration_id=ids["alpha"])
    ingest(sid, "b1", integration_id=ids["beta"])
    ingest(sid, "d1")  # detection: no integration
    r = client.post(f"/api/v1/incidents/{acked.incident_id}/acknowledge",
                    headers=responder.headers)
    assert r.status_code == 200, r.text

    report = client.get("/api/v1/alert-noise", headers=admin.headers).json()
    rows = {row["name"]: (row["id"], row["alerts"], row["incidents"],
                          row["alerts"] - row["no_action_30d"], row["no_action"])
            for row in report["integrations"]}
    assert rows == {"alpha": (ids["alpha"], 2, 2, 1, False),
                    "beta": (ids["beta"], 1, 1, 0, True),
                    "detection (no integration)": (None, 1, 1, 0, True)}
    assert report["integrations"][0]["name"] == "alpha"  # busiest first
