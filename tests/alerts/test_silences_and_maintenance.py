"""Silences and maintenance windows keep alerts visible but page no one; resolves are
still processed. Recurring windows follow their time zone across DST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.alerts.suppress import SilenceRule, Window, silence_matches, window_active
from tocsin.clock import FrozenClock


def test_weekly_window_in_local_time_across_dst() -> None:
    # Sundays 02:00-04:00 Europe/Berlin: 01:00 UTC in winter, 00:00 UTC in summer.
    window = Window(id=1, name="db patching", weekdays=[6], start_time="02:00",
                    duration_minutes=120, time_zone="Europe/Berlin")
    assert window_active(window, datetime(2026, 1, 4, 1, 30, tzinfo=UTC))
    assert not window_active(window, datetime(2026, 1, 4, 0, 30, tzinfo=UTC))
    assert window_active(window, datetime(2026, 7, 5, 0, 30, tzinfo=UTC))
    assert not window_active(window, datetime(2026, 7, 5, 2, 30, tzinfo=UTC))
    overnight = Window(id=2, name="late", weekdays=[6], start_time="23:00",
                       duration_minutes=240, time_zone="UTC")
    assert window_active(overnight, datetime(2026, 1, 5, 1, 0, tzinfo=UTC))  # Monday 01:00


def test_silence_matchers_like_alertmanager() -> None:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    silence = SilenceRule(id=1, starts_at=now - timedelta(hours=1),
                          ends_at=now + timedelta(hours=1),
                          matchers=[{"name": "env", "value": "prod"},
                                    {"name": "job", "value": "node.*", "is_regex": True},
                                    {"name": "team", "value": "db", "is_equal": False}])
    assert silence_matches(silence, {"env": "prod", "job": "node_exporter"}, now)
    assert not silence_matches(silence, {"env": "prod", "job": "node", "team": "db"}, now)
    assert not silence_matches(silence, {"env": "prod", "job": "xnode"}, now)
    assert not silence_matches(silence, {"env": "prod", "job": "node"}, now + timedelta(hours=2))


def test_silenced_alert_is_visible_pages_no_one_and_resolves(
        client: TestClient, responder: Account, admin: Account, clock: FrozenClock,
        new_service: Callable[..., int], ingest: Callable[..., Any]) -> None:
    sid = new_service()
    r = client.post("/api/v1/silences", headers=responder.headers, json={
        "matchers": [{"name": "host", "value": "db1"}], "comment": "replacing disk",
        "ends_at": (clock.now() + timedelta(hours=1)).isoformat()})
    assert r.status_code == 201, r.text
    silence = r.json()
    assert silence["author_id"] == responder.id and silence["active"]

    quiet = ingest(sid, "disk", labels={"host": "db1"})
    assert quiet.outcome == "suppressed" and quiet.incident_id is None
    loud = ingest(sid, "disk2", labels={"host": "db2"})
    assert loud.outcome == "created"
    alert = client.get(f"/api/v1/alerts/{quiet.alert_id}", headers=admin.headers).json()
    assert alert["status"] == "firing" and alert["suppressed_by"] == f"silence #{silence['id']}"
    assert ingest(sid, "disk", action="resolve").outcome == "resolved"

    still = ingest(sid, "disk3", labels={"host": "db1"})
    assert ingest(sid, "disk3", labels={"host": "db1"}).outcome == "suppressed"
    r = client.post(f"/api/v1/silences/{silence['id']}/expire", headers=responder.headers)
    assert r.status_code == 200 and not r.json()["active"]
    assert ingest(sid, "disk", labels={"host": "db1"}).outcome == "created"
    # Still firing when the silence ended: its next occurrence pages.
    paged = ingest(sid, "disk3", labels={"host": "db1"})
    assert paged.outcome == "created" and paged.alert_id == still.alert_id
    assert ingest(sid, "disk3", labels={"host": "db1"}).outcome == "deduplicated"


def test_maintenance_window_for_one_service(client: TestClient, responder: Account,
                                            clock: FrozenClock, new_service: Callable[..., int],
                                            ingest: Callable[..., Any]) -> None:
    under, other = new_service(), new_service()
    r = client.post("/api/v1/maintenance-windows", headers=responder.headers, json={
        "name": "upgrade", "service_id": under, "starts_at": clock.now().isoformat(),
        "ends_at": (clock.now() + timedelta(minutes=30)).isoformat()})
    assert r.status_code == 201 and r.json()["active_now"], r.text
    assert ingest(under, "a").outcome == "suppressed"
    assert ingest(other, "a").outcome == "created"
    clock.advance(minutes=31)
    assert ingest(under, "b").outcome == "created"
    bad = client.post("/api/v1/maintenance-windows", headers=responder.headers, json={
        "name": "x", "weekdays": [9], "start_time": "25:00", "duration_minutes": 10})
    assert bad.status_code == 422
