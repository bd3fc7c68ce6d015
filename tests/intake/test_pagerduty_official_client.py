"""The official `pagerduty` client, pointed at Tocsin over real HTTP, triggers, deduplicates,
acknowledges and resolves an alert and its incident by dedup key."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import pagerduty
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account, drain_intake
from tests.intake.conftest import TlsServer
from tocsin.runtime import Runtime


def client_for(key: str, server: TlsServer) -> pagerduty.EventsApiV2Client:
    return pagerduty.EventsApiV2Client(
        key, base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca)))


def test_trigger_ack_resolve_by_dedup_key(tls_server: TlsServer, client: TestClient, admin: Account,
                                          runtime: Runtime,
                                          make_integration: Callable[..., dict[str, Any]]
                                          ) -> None:
    integration = make_integration("pagerduty")
    assert integration["url"].endswith("/v2/enqueue") and len(integration["key"]) == 32
    events = client_for(integration["key"], tls_server)

    key = events.trigger("Disk 95% full on db1", "db1", dedup_key="disk-db1",
                         severity="critical", custom_details={"mount": "/var"})
    assert key == "disk-db1"
    again = events.trigger("Disk 96% full on db1", "db1", dedup_key="disk-db1",
                           severity="critical")
    assert again == "disk-db1"
    drain_intake(runtime)

    alerts = client.get("/api/v1/alerts", headers=admin.headers).json()["items"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["occurrences"] == 2 and alert["status"] == "firing"
    assert alert["severity"] == "SEV1" and alert["details"] == {}  # latest occurrence's details
    incident = client.get(f"/api/v1/incidents/{alert['incident_id']}",
                          headers=admin.headers).json()
    assert incident["status"] == "triggered" and incident["detection_source"] == "monitor"
    assert incident["severity"] == "SEV1"
    assert incident["service_ids"] == [integration["service_id"]]

    assert events.acknowledge("disk-db1") == "disk-db1"
    drain_intake(runtime)
    incident = client.get(f"/api/v1/incidents/{alert['incident_id']}",
                          headers=admin.headers).json()
    assert incident["status"] == "acknowledged"

    assert events.resolve("disk-db1") == "disk-db1"
    drain_intake(runtime)
    incident = client.get(f"/api/v1/incidents/{alert['incident_id']}",
                          headers=admin.headers).json()
    assert incident["status"] == "resolved"
    alert = client.get(f"/api/v1/alerts/{alert['id']}", headers=admin.headers).json()
    assert alert["status"] == "resolved"
    log = client.get(f"/api/v1/alerts/{alert['id']}/events", headers=admin.headers).json()
    assert [(e["action"], e["outcome"]) for e in log] == [
        ("trigger", "created"), ("trigger", "deduplicated"),
        ("acknowledge", "acknowledged"), ("resolve", "resolved")]
    assert '"mount":"/var"' in log[0]["raw"]
    assert integration["key"] not in log[0]["raw"]  # the secret is not kept in the log


def test_dedup_key_generated_when_absent(tls_server: TlsServer,
                                         make_integration: Callable[..., dict[str, Any]]) -> None:
    events = client_for(make_integration()["key"], tls_server)
    first = events.trigger("CPU high", "web1", severity="warning")
    second = events.trigger("CPU high", "web1", severity="warning")
    assert first and second and first != second


def test_unknown_routing_key_is_a_pagerduty_400(tls_server: TlsServer) -> None:
    events = client_for("0" * 32, tls_server)
    with pytest.raises(pagerduty.Error) as info:
        events.trigger("x", "y")
    response = info.value.response
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
    assert "routing key" in response.json()["errors"][0]


def test_change_event_shows_on_the_incident(tls_server: TlsServer, client: TestClient, admin: Account,
                                            runtime: Runtime, make_integration: Callable[..., dict[str, Any]]
                                            ) -> None:
    integration = make_integration()
    events = client_for(integration["key"], tls_server)
    events.send_change_event(payload={"summary": "deploy api 1.42", "source": "ci",
                                      "timestamp": "2026-01-05T11:55:00Z"})
    events.trigger("API errors", "api", dedup_key="api-5xx", severity="error")
    drain_intake(runtime)
    alert = client.get("/api/v1/alerts", headers=admin.headers).json()["items"][0]
    changes = client.get(f"/api/v1/incidents/{alert['incident_id']}/changes",
                         headers=admin.headers).json()
    assert [c["summary"] for c in changes] == ["deploy api 1.42"]
