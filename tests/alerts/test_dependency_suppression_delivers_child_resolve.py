"""While a dependency has an open incident, a dependent service's new alerts join that
incident instead of paging separately; the dependent's resolve is still processed (unlike
Alertmanager inhibition), and the parent incident resolves once every alert has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_child_alert_attaches_to_parent_incident_and_its_resolve_is_delivered(
        new_service: Callable[..., int], ingest: Callable[..., Any], client: TestClient,
        admin: Account) -> None:
    database = new_service(name="database", tier="critical")
    api = new_service(name="api", depends_on=[database])

    parent = ingest(database, "db-down", severity="critical")
    assert parent.outcome == "created" and parent.incident_id is not None

    child = ingest(api, "api-5xx", severity="critical")
    assert child.outcome == "suppressed"
    assert child.incident_id == parent.incident_id  # attached, no second incident
    incidents = client.get("/api/v1/incidents", headers=admin.headers).json()["items"]
    assert len(incidents) == 1

    listed = client.get(f"/api/v1/incidents/{parent.incident_id}/alerts",
                        headers=admin.headers).json()
    assert {a["dedup_key"] for a in listed} == {"db-down", "api-5xx"}
    api_alert = next(a for a in listed if a["dedup_key"] == "api-5xx")
    assert api_alert["suppressed_by"].startswith("dependency:")

    # The parent recovers first: its incident stays open while the child still fires.
    first = ingest(database, "db-down", action="resolve")
    assert first.outcome == "resolved" and "still firing" in first.note
    assert client.get(f"/api/v1/incidents/{parent.incident_id}",
                      headers=admin.headers).json()["status"] == "triggered"

    # The child's resolve is delivered, and it closes out the incident.
    resolved = ingest(api, "api-5xx", action="resolve")
    assert resolved.outcome == "resolved"
    alert = client.get(f"/api/v1/alerts/{child.alert_id}", headers=admin.headers).json()
    assert alert["status"] == "resolved"
    assert client.get(f"/api/v1/incidents/{parent.incident_id}",
                      headers=admin.headers).json()["status"] == "resolved"


def test_without_an_open_dependency_incident_the_child_pages_normally(
        new_service: Callable[..., int], ingest: Callable[..., Any]) -> None:
    database = new_service(name="database")
    api = new_service(name="api", depends_on=[database])
    assert ingest(api, "api-5xx").outcome == "created"


def test_transitive_dependency_suppresses_and_nearest_failed_dependency_wins(
        new_service: Callable[..., int], ingest: Callable[..., Any]) -> None:
    database = new_service(name="database", tier="critical")
    api = new_service(name="api", depends_on=[database])
    web = new_service(name="web", depends_on=[api])

    root = ingest(database, "db-down", severity="critical")
    assert root.outcome == "created"
    # web depends on database only through api, and api has no incident: still suppressed.
    child = ingest(web, "web-5xx", severity="critical")
    assert child.outcome == "suppressed"
    assert child.incident_id == root.incident_id

    # Once api has its own open incident (database recovered, api still down), web's next
    # new alert joins the nearer one.
    assert ingest(database, "db-down", action="resolve").outcome == "resolved"
    assert ingest(web, "web-5xx", action="resolve").outcome == "resolved"
    api_down = ingest(api, "api-down", severity="critical")
    assert api_down.outcome == "created"
    assert api_down.incident_id not in (None, root.incident_id)
    nearer = ingest(web, "web-latency", severity="critical")
    assert nearer.outcome == "suppressed"
    assert nearer.incident_id == api_down.incident_id
