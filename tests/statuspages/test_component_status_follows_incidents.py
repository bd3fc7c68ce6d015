"""A component is in partial outage while an incident on its service is open, and back to
operational after; an override is shown as set by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.statuspages.helpers import component, component_status, page, public, run_refresh, service
from tocsin.runtime import Runtime


def test_component_in_partial_outage_during_incident_then_operational(
        client: TestClient, runtime: Runtime, admin: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    api = service(client, admin, "api")
    other = service(client, admin, "billing")
    p = page(client, admin)
    component(client, admin, p["id"], "API", [api], group="Platform")
    component(client, admin, p["id"], "Billing", [other], group="Platform")
    assert "All Systems Operational" in public(client, "acme").text

    incident = make_incident(severity="SEV2", service_ids=[api], title="db pool exhausted")
    assert run_refresh(runtime) == 1
    assert component_status(client, "acme", "API") == "partial_outage"
    assert component_status(client, "acme", "Billing") == "operational"
    html = public(client, "acme").text
    assert "Partial outage" in html and "Partial System Outage" in html
    assert "db pool exhausted" not in html  # the internal title never reaches the page
    assert run_refresh(runtime) == 0  # nothing changed: nothing rendered

    r = client.post(f"/api/v1/incidents/{incident['id']}/resolve", headers=admin.headers,
                    json={"resolution_summary": "pool resized"})
    assert r.status_code == 200, r.text
    assert run_refresh(runtime) == 1
    assert component_status(client, "acme", "API") == "operational"
    assert "All Systems Operational" in public(client, "acme").text


def test_sev1_is_a_major_outage_and_an_override_is_shown_as_such(
        client: TestClient, runtime: Runtime, admin: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    api = service(client, admin, "api")
    p = page(client, admin)
    cid = component(client, admin, p["id"], "API", [api])
    make_incident(severity="SEV1", service_ids=[api])
    run_refresh(runtime)
    assert component_status(client, "acme", "API") == "major_outage"
    summary = public(client, "acme", "api/v2/summary.json").json()
    assert summary["status"] == {"indicator": "major", "description": "Major System Outage"}

    r = client.put(f"/api/v1/statuspages/{p['id']}/components/{cid}/override",
                   headers=admin.headers, json={"status": "degraded_performance",
                                                "note": "fail-over in place"})
    assert r.status_code == 200 and r.json()["overridden"] is True, r.text
    assert component_status(client, "acme", "API") == "degraded_performance"
    assert "Status set by hand: fail-over in place" in public(client, "acme").text
    r = client.put(f"/api/v1/statuspages/{p['id']}/components/{cid}/override",
                   headers=admin.headers, json={"status": None})
    assert r.json()["overridden"] is False and r.json()["status"] == "major_outage"


def test_a_drill_on_a_mapped_service_leaves_the_public_page_alone(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account) -> None:
    api = service(client, admin, "api")
    p = page(client, admin)
    component(client, admin, p["id"], "API", [api])
    scenario = client.post("/api/v1/drills/scenarios", headers=admin.headers, json={
        "name": "api down", "alert_title": "API 500s", "service_id": api,
        "severity": "SEV1"}).json()
    r = client.post("/api/v1/drills", headers=admin.headers, json={
        "scenario_id": scenario["id"], "participant_ids": [responder.id]})
    assert r.status_code == 201, r.text
    run_refresh(runtime)
    assert component_status(client, "acme", "API") == "operational"
    assert "All Systems Operational" in public(client, "acme").text
