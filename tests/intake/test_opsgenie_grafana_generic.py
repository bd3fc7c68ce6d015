"""Opsgenie Alert API (create / acknowledge / close by alias or id, GenieKey auth), the
Grafana webhook (unified and legacy) and the generic JSON webhook with field mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, drain_intake


def alerts_of(client: TestClient, admin: Account, integration_id: int) -> list[dict[str, Any]]:
    drain_intake(client.app.state.runtime)  # type: ignore[attr-defined]
    items: list[dict[str, Any]] = client.get(
        "/api/v1/alerts", params={"integration_id": integration_id},
        headers=admin.headers).json()["items"]
    return items


def incident(client: TestClient, admin: Account, iid: int) -> dict[str, Any]:
    drain_intake(client.app.state.runtime)  # type: ignore[attr-defined]
    out: dict[str, Any] = client.get(f"/api/v1/incidents/{iid}", headers=admin.headers).json()
    return out


def test_opsgenie_create_ack_close(client: TestClient, admin: Account,
                                   make_integration: Callable[..., dict[str, Any]]) -> None:
    og = make_integration("opsgenie")
    auth = {"Authorization": f"GenieKey {og['key']}"}
    r = client.post("/v2/alerts", headers=auth, json={
        "message": "Queue backlog on mailer", "alias": "mailer-backlog", "priority": "P2",
        "tags": ["mail"], "details": {"depth": "12000"}, "entity": "mailer"})
    assert r.status_code == 202, r.text
    assert r.json()["result"] == "Request will be processed" and r.json()["requestId"]
    status_url = f"/v2/alerts/requests/{r.json()['requestId']}"
    assert client.get(status_url, headers=auth).status_code == 404  # not processed yet
    [alert] = alerts_of(client, admin, og["id"])
    status = client.get(status_url, headers=auth).json()["data"]
    assert status["isSuccess"] and status["action"] == "Create"
    assert status["status"] == "Created alert" and status["alertId"] == str(alert["id"])
    assert alert["severity"] == "SEV2" and alert["labels"]["entity"] == "mailer"

    r = client.post("/v2/alerts/mailer-backlog/acknowledge?identifierType=alias", headers=auth,
                    json={"user": "ops", "source": "console"})
    assert r.status_code == 202, r.text
    assert incident(client, admin, alert["incident_id"])["status"] == "acknowledged"
    r = client.post(f"/v2/alerts/{alert['id']}/close?identifierType=id", headers=auth)
    assert r.status_code == 202, r.text
    assert incident(client, admin, alert["incident_id"])["status"] == "resolved"


def test_opsgenie_errors_in_its_own_shape(client: TestClient,
                                          make_integration: Callable[..., dict[str, Any]]
                                          ) -> None:
    og = make_integration("opsgenie")
    r = client.post("/v2/alerts", json={"message": "x"})
    assert r.status_code == 401 and "GenieKey" in r.json()["message"]
    r = client.post("/v2/alerts", headers={"Authorization": f"GenieKey {og['key']}"},
                    json={"message": "", "priority": "P9"})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"message", "priority"} and "requestId" in r.json()
    pd = make_integration("pagerduty")  # a key of another kind is not an Opsgenie key
    r = client.post("/v2/alerts", headers={"Authorization": f"GenieKey {pd['key']}"},
                    json={"message": "x"})
    assert r.status_code == 401


GRAFANA = {
    "receiver": "tocsin", "status": "firing", "orgId": 1, "title": "[FIRING:1] Disk",
    "state": "alerting", "message": "Disk full",
    "alerts": [{"status": "firing", "labels": {"alertname": "Disk", "host": "db1",
                                               "severity": "warning"},
                "annotations": {"summary": "Disk 90% on db1"},
                "startsAt": "2026-01-05T11:59:00.123456789Z",
                "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc123",
                "values": {"B": 90}, "dashboardURL": "http://grafana/d/1"}]}


def test_grafana_unified_and_legacy(client: TestClient, admin: Account,
                                    make_integration: Callable[..., dict[str, Any]]) -> None:
    gf = make_integration("grafana")
    r = client.post(f"/api/v1/intake/grafana/{gf['key']}", json=GRAFANA)
    assert r.status_code == 200, r.text
    [alert] = alerts_of(client, admin, gf["id"])
    assert alert["dedup_key"] == "abc123" and alert["severity"] == "SEV3"
    assert alert["details"]["dashboardURL"] == "http://grafana/d/1"
    resolved = {**GRAFANA, "alerts": [{**GRAFANA["alerts"][0], "status": "resolved"}]}
    client.post(f"/api/v1/intake/grafana/{gf['key']}", json=resolved)
    assert incident(client, admin, alert["incident_id"])["status"] == "resolved"

    legacy = {"ruleId": 7, "ruleName": "CPU", "state": "alerting", "title": "[Alerting] CPU",
              "message": "CPU above 90%"}
    r = client.post(f"/api/v1/intake/grafana/{gf['key']}", json=legacy)
    assert r.status_code == 200, r.text
    assert any(a["dedup_key"] == "rule-7" for a in alerts_of(client, admin, gf["id"]))


def test_generic_webhook_with_mapping(client: TestClient, admin: Account,
                                      make_service: Callable[..., dict[str, Any]],
                                      make_integration: Callable[..., dict[str, Any]]) -> None:
    billing = make_service(name="billing")
    hook = make_integration("generic", mapping={
        "title": "$.check.name", "dedup_key": "$.check.id", "severity": "level",
        "status": "$.check.state", "service": "$.tags[0]"})
    url = f"/api/v1/intake/generic/{hook['key']}"
    body = {"check": {"id": "c-42", "name": "Invoice job late", "state": "down"},
            "level": "error", "tags": ["billing"]}
    r = client.post(url, json=body)
    assert r.status_code == 202 and r.json()["status"] == "success", r.text
    [alert] = alerts_of(client, admin, hook["id"])
    created = incident(client, admin, alert["incident_id"])
    assert created["service_ids"] == [billing["id"]] and created["severity"] == "SEV2"
    body["check"]["state"] = "up"
    assert client.post(url, json=body).status_code == 202
    assert incident(client, admin, alert["incident_id"])["status"] == "resolved"
    r = client.post(url, json={"check": {"id": "c-1"}})
    assert r.status_code == 400 and "title" in r.json()["detail"]
    r = client.post(url, json={**body, "tags": ["nope"]})
    assert r.status_code == 400 and "no service named 'nope'" in r.json()["detail"]
    r = client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": billing["id"], "kind": "generic", "name": "bad", "mapping": {}})
    assert r.status_code == 422
