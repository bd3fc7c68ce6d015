"""A maintenance window announced on the page: scheduled, then in progress (its components
under maintenance) when the window starts, then completed when it ends."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.statuspages.helpers import component, component_status, page, public, run_refresh, service
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_maintenance_post_moves_with_its_window(client: TestClient, runtime: Runtime,
                                                admin: Account, clock: FrozenClock) -> None:
    db = service(client, admin, "db")
    p = page(client, admin)
    cid = component(client, admin, p["id"], "Database", [db])
    start, end = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=2)
    r = client.post("/api/v1/maintenance-windows", headers=admin.headers, json={
        "name": "db upgrade", "service_id": db, "starts_at": start.isoformat(),
        "ends_at": end.isoformat()})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/statuspages/{p['id']}/maintenance", headers=admin.headers, json={
        "window_id": r.json()["id"], "title": "Database upgrade",
        "body": "We will upgrade the database; writes may pause."})
    assert r.status_code == 201, r.text
    assert r.json()["component_ids"] == [cid] and r.json()["stage"] == "scheduled"
    upcoming = public(client, "acme", "api/v2/scheduled-maintenances/upcoming.json").json()
    [m] = upcoming["scheduled_maintenances"]
    assert m["name"] == "Database upgrade" and m["status"] == "scheduled"
    assert m["scheduled_for"].startswith(start.isoformat()[:19])
    assert "Scheduled maintenance" in public(client, "acme").text

    clock.advance(minutes=61)
    run_refresh(runtime)
    assert component_status(client, "acme", "Database") == "under_maintenance"
    active = public(client, "acme", "api/v2/scheduled-maintenances/active.json").json()
    assert [a["status"] for a in active["scheduled_maintenances"]] == ["in_progress"]

    clock.advance(minutes=60)
    run_refresh(runtime)
    assert component_status(client, "acme", "Database") == "operational"
    all_m = public(client, "acme", "api/v2/scheduled-maintenances.json").json()
    [done] = all_m["scheduled_maintenances"]
    assert done["status"] == "completed"
    assert [u["status"] for u in done["incident_updates"]] == ["completed", "in_progress",
                                                               "scheduled"]
