"""Response targets over the API: an incident that was not acknowledged in time is marked as
missing its target; targets are editable by admins; restricted incidents are counted in the
figures without being named to people who may not see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def test_an_incident_acknowledged_late_is_marked_missing_its_ack_target(
        client: TestClient, clock: FrozenClock, responder: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    late = make_incident(severity="SEV1", title="Payments down")
    quick = make_incident(severity="SEV1", title="Login slow")
    clock.advance(minutes=2)
    assert client.post(f"/api/v1/incidents/{quick['id']}/acknowledge",
                       headers=responder.headers).status_code == 200
    clock.advance(minutes=7)  # 9 minutes after creation: SEV1's 5-minute target has passed
    assert client.post(f"/api/v1/incidents/{late['id']}/acknowledge",
                       headers=responder.headers).status_code == 200

    r = client.get(f"/api/v1/metrics/incidents/{late['id']}/targets", headers=responder.headers)
    assert r.status_code == 200, r.text
    assert r.json()["ack"] == "missed"
    assert client.get(f"/api/v1/metrics/incidents/{quick['id']}/targets",
                      headers=responder.headers).json()["ack"] == "met"

    report = client.get("/api/v1/metrics/compliance", headers=responder.headers).json()
    [miss] = [m for m in report["missed"] if m["incident_id"] == late["id"]]
    assert "ack" in miss["measures"]
    ack = [r for r in report["rows"] if r["measure"] == "ack"]
    assert sum(r["met"] for r in ack) == 1 and sum(r["missed"] for r in ack) == 1

    metrics = client.get("/api/v1/metrics/incidents?by=severity",
                         headers=responder.headers).json()
    [sev1] = metrics["rows"]
    assert sev1["group"] == "SEV1" and sev1["incidents"] == 2
    assert sev1["mtta"] == {"n": 2, "mean": 330.0, "median": 330.0, "p90": 540.0}


def test_a_never_acknowledged_incident_misses_once_its_deadline_passes(
        client: TestClient, clock: FrozenClock, responder: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    incident = make_incident(severity="SEV2")
    url = f"/api/v1/metrics/incidents/{incident['id']}/targets"
    assert client.get(url, headers=responder.headers).json()["ack"] == "pending"
    clock.advance(minutes=16)
    assert client.get(url, headers=responder.headers).json()["ack"] == "missed"


def test_admins_edit_targets_and_others_cannot(client: TestClient, clock: FrozenClock,
                                               admin: Account, responder: Account,
                                               make_incident: Callable[..., dict[str, Any]],
                                               ) -> None:
    body = {"ack_minutes": 30, "update_minutes": None, "resolve_minutes": 600}
    assert client.put("/api/v1/metrics/targets/SEV2", json=body,
                      headers=responder.headers).status_code == 403
    r = client.put("/api/v1/metrics/targets/SEV2", json=body, headers=admin.headers)
    assert r.status_code == 200, r.text
    sev2 = next(t for t in r.json()["targets"] if t["severity"] == "SEV2")
    assert sev2 == {"severity": "SEV2", "ack_minutes": 30, "update_minutes": None,
                    "resolve_minutes": 600, "default": False}
    incident = make_incident(severity="SEV2")
    clock.advance(minutes=20)  # late for the default 15, in time for the edited 30
    url = f"/api/v1/metrics/incidents/{incident['id']}/targets"
    assert client.get(url, headers=responder.headers).json()["ack"] == "pending"
    assert client.get(url, headers=responder.headers).json()["update"] == "none"
    r = client.delete("/api/v1/metrics/targets/SEV2", headers=admin.headers)
    assert next(t for t in r.json()["targets"] if t["severity"] == "SEV2")["default"] is True
    assert client.get(url, headers=responder.headers).json()["ack"] == "missed"
    assert client.put("/api/v1/metrics/targets/SEV9", json=body,
                      headers=admin.headers).status_code == 422


def test_restricted_incidents_are_counted_but_not_named(
        client: TestClient, clock: FrozenClock, admin: Account, viewer: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    secret = make_incident(as_=admin, severity="SEV1", title="Breach", restricted=True)
    make_incident(severity="SEV1")
    clock.advance(minutes=30)
    report = client.get("/api/v1/metrics/compliance", headers=viewer.headers).json()
    assert report["missed_hidden"] == 1
    assert all(m["incident_id"] != secret["id"] for m in report["missed"])
    assert secret["number"] not in client.get("/api/v1/metrics/compliance.csv",
                                              headers=viewer.headers).text
    [row] = client.get("/api/v1/metrics/incidents", headers=viewer.headers).json()["rows"]
    assert row["incidents"] == 2
    assert client.get(f"/api/v1/metrics/incidents/{secret['id']}/targets",
                      headers=viewer.headers).status_code == 404
    admin_view = client.get("/api/v1/metrics/compliance", headers=admin.headers).json()
    assert admin_view["missed_hidden"] == 0 and len(admin_view["missed"]) == 2


def test_metrics_export_as_csv(client: TestClient, responder: Account,
                               make_incident: Callable[..., dict[str, Any]]) -> None:
    make_incident(severity="SEV3")
    r = client.get("/api/v1/metrics/incidents.csv?by=period&period=month",
                   headers=responder.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    header, row = r.text.splitlines()
    assert "mtta.median" in header.split(",") and row.startswith("2026-01,1,")


def test_figures_follow_changes_made_after_they_were_first_read(
        client: TestClient, clock: FrozenClock, admin: Account, responder: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    incident = make_incident(severity="SEV2")
    url = "/api/v1/metrics/incidents?by=severity"
    clock.advance(minutes=3)
    assert client.get(url, headers=responder.headers).json()["rows"][0]["mtta"]["n"] == 0
    client.post(f"/api/v1/incidents/{incident['id']}/acknowledge", headers=responder.headers)
    [row] = client.get(url, headers=responder.headers).json()["rows"]
    assert row["mtta"]["median"] == 180.0 and row["unacknowledged"] == 0
    r = client.post(f"/api/v1/incidents/{incident['id']}/severity", headers=responder.headers,
                    json={"severity": "SEV1", "reason": "worse than thought"})
    assert r.status_code == 200, r.text
    assert [g["group"] for g in client.get(url, headers=responder.headers).json()["rows"]] == [
        "SEV1"]
    svc = client.post("/api/v1/services", headers=admin.headers, json={"name": "ledger"}).json()
    client.patch(f"/api/v1/incidents/{incident['id']}", headers=responder.headers,
                 json={"service_ids": [svc["id"]]})
    by_service = client.get("/api/v1/metrics/incidents?by=service",
                            headers=responder.headers).json()["rows"]
    assert [g["group"] for g in by_service] == ["ledger"]


def test_drills_are_left_out_of_every_figure(
        client: TestClient, clock: FrozenClock, admin: Account, responder: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    make_incident(severity="SEV2", title="Real outage")
    scenario = client.post("/api/v1/drills/scenarios", headers=admin.headers, json={
        "name": "game day", "alert_title": "Disk full", "severity": "SEV2"}).json()
    drill = client.post("/api/v1/drills", headers=admin.headers, json={
        "scenario_id": scenario["id"], "participant_ids": [responder.id]})
    assert drill.status_code == 201, drill.text
    clock.advance(minutes=30)  # both miss SEV2's acknowledgement target

    [row] = client.get("/api/v1/metrics/incidents", headers=responder.headers).json()["rows"]
    assert row["incidents"] == 1
    report = client.get("/api/v1/metrics/compliance", headers=responder.headers).json()
    assert [m["incident_id"] for m in report["missed"]] != [] and all(
        m["incident_id"] != drill.json()["incident_id"] for m in report["missed"])
