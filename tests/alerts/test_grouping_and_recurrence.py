"""Grouping per service: one incident per alert by default; by service or label set within
a window ("10 failing checks of one service → one incident"); auto-resolve when all alerts
resolve; a recurrence inside the recovery window reopens the incident."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def set_grouping(client: TestClient, admin: Account, service_id: int, **body: Any) -> None:
    r = client.put(f"/api/v1/services/{service_id}/triage", json=body, headers=admin.headers)
    assert r.status_code == 200, r.text


def test_default_is_one_incident_per_alert(new_service: Callable[..., int],
                                          ingest: Callable[..., Any]) -> None:
    sid = new_service()
    a, b = ingest(sid, "check-a"), ingest(sid, "check-b")
    assert a.outcome == b.outcome == "created" and a.incident_id != b.incident_id
    again = ingest(sid, "check-a")
    assert again.outcome == "deduplicated" and again.incident_id == a.incident_id


def test_ten_failing_checks_of_one_service_make_one_incident(
        new_service: Callable[..., int], ingest: Callable[..., Any], client: TestClient,
        admin: Account, clock: FrozenClock) -> None:
    sid = new_service()
    set_grouping(client, admin, sid, grouping="service", window_minutes=10)
    results = []
    for i in range(10):
        results.append(ingest(sid, f"check-{i}"))
        clock.advance(seconds=30)
    assert [r.outcome for r in results] == ["created"] + ["grouped"] * 9
    assert len({r.incident_id for r in results}) == 1
    listed = client.get(f"/api/v1/incidents/{results[0].incident_id}/alerts",
                        headers=admin.headers).json()
    assert len(listed) == 10

    clock.advance(minutes=11)  # past the window since the last alert
    late = ingest(sid, "check-late")
    assert late.outcome == "created" and late.incident_id != results[0].incident_id


def test_label_grouping_splits_by_label_values(new_service: Callable[..., int],
                                               ingest: Callable[..., Any], client: TestClient,
                                               admin: Account) -> None:
    sid = new_service()
    set_grouping(client, admin, sid, grouping="labels", group_labels=["cluster"])
    a = ingest(sid, "a", labels={"cluster": "eu"})
    b = ingest(sid, "b", labels={"cluster": "eu"})
    c = ingest(sid, "c", labels={"cluster": "us"})
    assert (a.outcome, b.outcome, c.outcome) == ("created", "grouped", "created")
    assert a.incident_id == b.incident_id != c.incident_id


def test_auto_resolve_waits_for_all_alerts_and_can_be_turned_off(
        new_service: Callable[..., int], ingest: Callable[..., Any], client: TestClient,
        admin: Account) -> None:
    sid = new_service()
    set_grouping(client, admin, sid, grouping="service")
    first, _second = ingest(sid, "a"), ingest(sid, "b")
    url = f"/api/v1/incidents/{first.incident_id}"
    ingest(sid, "a", action="resolve")
    assert client.get(url, headers=admin.headers).json()["status"] == "triggered"
    ingest(sid, "b", action="resolve")
    assert client.get(url, headers=admin.headers).json()["status"] == "resolved"

    manual = new_service()
    set_grouping(client, admin, manual, auto_resolve=False)
    kept = ingest(manual, "x")
    ingest(manual, "x", action="resolve")
    assert client.get(f"/api/v1/incidents/{kept.incident_id}",
                      headers=admin.headers).json()["status"] == "triggered"


def test_recurrence_inside_recovery_window_reopens_outside_opens_new(
        new_service: Callable[..., int], ingest: Callable[..., Any], client: TestClient,
        admin: Account, clock: FrozenClock) -> None:
    sid = new_service()
    first = ingest(sid, "flappy", severity="warning")  # SEV3: 15 min recovery watch
    ingest(sid, "flappy", action="resolve")
    clock.advance(minutes=5)
    again = ingest(sid, "flappy", severity="warning")
    assert again.outcome == "reopened" and again.incident_id == first.incident_id
    incident = client.get(f"/api/v1/incidents/{first.incident_id}",
                          headers=admin.headers).json()
    assert incident["status"] == "triggered" and incident["reopen_count"] == 1

    ingest(sid, "flappy", action="resolve")
    clock.advance(minutes=20)
    later = ingest(sid, "flappy", severity="warning")
    assert later.outcome == "created" and later.incident_id != first.incident_id


def test_acknowledge_and_unknown_keys(new_service: Callable[..., int],
                                      ingest: Callable[..., Any], client: TestClient,
                                      admin: Account) -> None:
    sid = new_service()
    fired = ingest(sid, "k")
    acked = ingest(sid, "k", action="acknowledge")
    assert acked.outcome == "acknowledged"
    assert client.get(f"/api/v1/incidents/{fired.incident_id}",
                      headers=admin.headers).json()["status"] == "acknowledged"
    ghost = ingest(sid, "never-seen", action="resolve")
    assert ghost.outcome == "ignored" and ghost.alert_id == 0
