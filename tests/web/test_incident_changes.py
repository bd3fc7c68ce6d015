"""The incident page lists recent changes (deploys) reported on its services."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def test_recent_deploy_shows_on_the_incident(client: TestClient, admin: Account,
                                             responder: Account, make_incident: Any) -> None:
    client.post("/api/v1/services", json={"name": "payments", "tier": "critical"},
                headers=admin.headers)
    client.post("/api/v1/services", json={"name": "search"}, headers=admin.headers)
    integration = client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": 1, "kind": "pagerduty", "name": "CI"}).json()
    r = client.post("/v2/change/enqueue", json={
        "routing_key": integration["key"],
        "payload": {"summary": "Deploy payments-api 1.42", "source": "ci",
                    "timestamp": "2026-01-05T11:40:00Z"}})
    assert r.status_code < 300, r.text
    on_payments = make_incident(title="Card payments failing", service_ids=[1])["id"]
    on_search = make_incident(title="Search slow", service_ids=[2])["id"]
    web_login(client, responder)
    page = client.get(f"/incidents/{on_payments}").text
    assert "Recent changes on its services" in page and "Deploy payments-api 1.42" in page
    assert "Deploy payments-api 1.42" not in client.get(f"/incidents/{on_search}").text
