"""Noise statistics per integration and per routing rule: alerts, incidents, acknowledged
share, flapping alerts and alerts nobody acted on in the period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


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
