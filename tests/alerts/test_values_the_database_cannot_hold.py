"""Alerts, silences, rules and services refuse values the database cannot hold with a 422
(problem+json) and store nothing: ids past the column's range and NUL characters."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_alert_ids_past_the_columns_range_are_refused(client: TestClient,
                                                      admin: Account) -> None:
    for n in (2**31, 2**63, 36893488147419103233):
        for path in (f"/api/v1/alerts/{n}", f"/api/v1/alerts/{n}/events",
                     f"/api/v1/alerts?integration_id={n}"):
            r = client.get(path, headers=admin.headers)
            assert r.status_code == 422, (path, r.text)
    r = client.post("/api/v1/routing-rules", headers=admin.headers, json={
        "name": "r", "position": 2**63, "actions": {"severity": "SEV1"},
        "conditions": [{"field": "labels.env", "op": "equals", "value": "prod"}]})
    assert r.status_code == 422 and "position" in r.json()["detail"], r.text
    assert client.get("/api/v1/routing-rules", headers=admin.headers).json()["items"] == []


def test_nul_characters_are_refused(client: TestClient, admin: Account) -> None:
    r = client.get("/api/v1/alerts?status=fir%00ing", headers=admin.headers)
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    r = client.post("/api/v1/silences", headers=admin.headers, json={
        "matchers": [{"name": "host", "value": "db\u00001"}],
        "ends_at": "2030-01-01T00:00:00Z", "comment": "maintenance"})
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    r = client.post("/api/v1/services", headers=admin.headers, json={"name": "pay\u0000ments"})
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    assert client.get("/api/v1/silences", headers=admin.headers).json()["items"] == []
    assert client.get("/api/v1/services", headers=admin.headers).json()["items"] == []
