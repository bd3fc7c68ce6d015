"""A weekly maintenance window announced on a page: each occurrence within the horizon is its
own maintenance post (page, feeds, scheduled-maintenances.json, summary.json), later ones are
announced as they come within it, each moves to in progress and completed with its own time,
and a subscriber hears of each occurrence once. Bad requests change nothing."""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tests.notify.paging import drain, worker
from tests.notify.servers import Inbox, body_of
from tests.statuspages.helpers import component, component_status, page, public, run_refresh, service
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.statuspages import service as sp
from tocsin.statuspages.models import StatusMaintenanceSeries


def _weekly(client: TestClient, admin: Account, service_id: int) -> int:
    # Monday, Wednesday and Friday at 14:00 in Paris (13:00 UTC in January), for an hour.
    r = client.post("/api/v1/maintenance-windows", headers=admin.headers, json={
        "name": "db patching", "service_id": service_id, "weekdays": [0, 2, 4],
        "start_time": "14:00", "duration_minutes": 60, "time_zone": "Europe/Paris"})
    assert r.status_code == 201, r.text
    wid: int = r.json()["id"]
    return wid


def _maintenances(client: TestClient, name: str = "") -> list[dict[str, Any]]:
    path = "api/v2/scheduled-maintenances" + (f"/{name}" if name else "") + ".json"
    out: list[dict[str, Any]] = public(client, "acme", path).json()["scheduled_maintenances"]
    return out


def _subscribe(client: TestClient, w: Any, inbox: Inbox, address: str) -> None:
    assert client.post("/status/acme/subscribe", json={"address": address}).status_code == 202
    drain(w)
    [mail] = inbox.to(address)
    found = re.search(r"Confirm: (\S+)", body_of(mail))
    assert found is not None
    assert client.get(urlsplit(found.group(1)).path).status_code == 200


def test_each_occurrence_is_announced_once_and_moves_with_its_time(
        client: TestClient, runtime: Runtime, admin: Account, clock: FrozenClock,
        smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    db = service(client, admin, "db")
    p = page(client, admin)
    cid = component(client, admin, p["id"], "Database", [db])
    _subscribe(client, w, inbox, "reader@example.com")
    window = _weekly(client, admin, db)
    assert clock.now().isoformat().startswith("2026-01-05T12:00")  # a Monday

    r = client.post(f"/api/v1/statuspages/{p['id']}/maintenance", headers=admin.headers,
                    json={"window_id": window, "title": "Database patching",
                          "body": "Writes may pause for **a few seconds**.",
                          "horizon_days": 7})
    assert r.status_code == 201, r.text
    series = r.json()
    assert series["kind"] == "recurring" and series["component_ids"] == [cid]
    starts = [u["scheduled_for"][:16] for u in series["upcoming"]]
    assert starts == ["2026-01-05T13:00", "2026-01-07T13:00", "2026-01-09T13:00"]
    assert series["upcoming"][0]["scheduled_until"][:16] == "2026-01-05T14:00"

    upcoming = _maintenances(client, "upcoming")
    assert sorted(m["scheduled_for"][:16] for m in upcoming) == starts
    assert {m["status"] for m in upcoming} == {"scheduled"}
    summary = public(client, "acme", "api/v2/summary.json").json()
    assert len(summary["scheduled_maintenances"]) == 3
    assert public(client, "acme").text.count("Database patching") == 3
    for feed in ("feed.rss", "feed.atom"):
        parsed = feedparser.parse(public(client, "acme", feed).content)
        assert [e.title for e in parsed.entries] == ["Database patching: Scheduled"] * 3

    drain(w)
    announced = [m for m in inbox.to("reader@example.com") if "Scheduled" in m["Subject"]]
    assert len(announced) == 3

    # The worker runs again and again: nothing more until a new occurrence comes in range.
    assert run_refresh(runtime) == 0 and run_refresh(runtime) == 0
    assert len(_maintenances(client)) == 3

    clock.advance(minutes=90)  # Monday 13:30 UTC: the first occurrence is on
    run_refresh(runtime)
    assert component_status(client, "acme", "Database") == "under_maintenance"
    assert [a["scheduled_for"][:16] for a in _maintenances(client, "active")] == [
        "2026-01-05T13:00"]
    clock.advance(minutes=60)
    run_refresh(runtime)
    assert component_status(client, "acme", "Database") == "operational"
    done = [m for m in _maintenances(client) if m["status"] == "completed"]
    assert [d["scheduled_for"][:16] for d in done] == ["2026-01-05T13:00"]

    clock.advance(days=2)  # Wednesday 14:30 UTC: next Monday and Wednesday are in range
    run_refresh(runtime)
    run_refresh(runtime)
    everything = sorted(_maintenances(client), key=lambda m: m["scheduled_for"])
    assert [(m["scheduled_for"][:16], m["status"]) for m in everything] == [
        ("2026-01-05T13:00", "completed"), ("2026-01-07T13:00", "completed"),
        ("2026-01-09T13:00", "scheduled"), ("2026-01-12T13:00", "scheduled"),
        ("2026-01-14T13:00", "scheduled")]
    drain(w)
    announced = [m["Subject"] for m in inbox.to("reader@example.com")
                 if "Scheduled" in m["Subject"]]
    assert len(announced) == 5  # one announcement per occurrence, never twice

    # Stopping the series: no more occurrences; those posted stay.
    r = client.delete(f"/api/v1/statuspages/{p['id']}/maintenance-series/{series['id']}",
                      headers=admin.headers)
    assert r.status_code == 204
    clock.advance(days=7)
    run_refresh(runtime)
    assert len(_maintenances(client)) == 5


def test_bad_announcements_are_refused_and_change_nothing(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account) -> None:
    db = service(client, admin, "db")
    p = page(client, admin)
    component(client, admin, p["id"], "Database", [db])
    window = _weekly(client, admin, db)
    url = f"/api/v1/statuspages/{p['id']}/maintenance"
    ok = {"window_id": window, "title": "Patching", "body": "Short pause."}

    cases = [
        (admin, {**ok, "horizon_days": 0}, 422),
        (admin, {**ok, "horizon_days": 91}, 422),
        (admin, {**ok, "body": "   "}, 422),
        (admin, {**ok, "component_ids": [999]}, 422),
        (admin, {**ok, "window_id": 999}, 404),
        (responder, ok, 403),  # one author: publishing is for admins (no incident here)
    ]
    for who, body, status in cases:
        r = client.post(url, headers=who.headers, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    listed = client.get(f"/api/v1/statuspages/{p['id']}/maintenance-series",
                        headers=admin.headers).json()
    assert listed["items"] == []
    assert client.get(f"/api/v1/statuspages/{p['id']}/posts",
                      headers=admin.headers).json()["items"] == []

    r = client.post(url, headers=admin.headers, json=ok)
    assert r.status_code == 201, r.text
    made = len(r.json()["upcoming"])
    assert made == 6  # 14 days by default: Mon, Wed, Fri twice
    r = client.post(url, headers=admin.headers, json=ok)
    assert r.status_code == 409 and "already announced" in r.text
    assert len(client.get(f"/api/v1/statuspages/{p['id']}/posts",
                          headers=admin.headers).json()["items"]) == made

    # A one-off window takes no horizon.
    r = client.post("/api/v1/maintenance-windows", headers=admin.headers, json={
        "name": "once", "starts_at": "2026-02-01T10:00:00Z", "ends_at": "2026-02-01T11:00:00Z"})
    assert r.status_code == 201, r.text
    r = client.post(url, headers=admin.headers,
                    json={**ok, "window_id": r.json()["id"], "horizon_days": 3})
    assert r.status_code == 422 and "horizon_days" in r.text
    r = client.delete(f"/api/v1/statuspages/{p['id']}/maintenance-series/999",
                      headers=admin.headers)
    assert r.status_code == 404


def test_many_occurrences_never_push_incident_posts_off_the_page(
        client: TestClient, runtime: Runtime, admin: Account) -> None:
    db = service(client, admin, "db")
    p = page(client, admin)
    component(client, admin, p["id"], "Database", [db])
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                    json={"title": "Slow queries", "stage": "resolved", "body": "Fixed."})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/maintenance-windows", headers=admin.headers, json={
        "name": "nightly", "service_id": db, "weekdays": list(range(7)),
        "start_time": "03:00", "duration_minutes": 15})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/statuspages/{p['id']}/maintenance", headers=admin.headers,
                    json={"window_id": r.json()["id"], "title": "Nightly vacuum",
                          "body": "A short pause.", "horizon_days": 60})
    assert r.status_code == 201, r.text
    assert len(r.json()["upcoming"]) == 60
    incidents = public(client, "acme", "api/v2/incidents.json").json()["incidents"]
    assert [i["name"] for i in incidents] == ["Slow queries"]
    assert "Slow queries" in public(client, "acme").text
    assert len(_maintenances(client)) == 50  # the latest 50 of each kind


def test_two_workers_racing_announce_each_occurrence_once(
        client: TestClient, runtime: Runtime, admin: Account, clock: FrozenClock) -> None:
    """Two workers read the series at the same moment (on PostgreSQL truly at once: both
    hold what they read before either writes); one posts the new occurrences, the other
    finds its claim taken and posts nothing."""
    db = service(client, admin, "db")
    p = page(client, admin)
    component(client, admin, p["id"], "Database", [db])
    r = client.post(f"/api/v1/statuspages/{p['id']}/maintenance", headers=admin.headers,
                    json={"window_id": _weekly(client, admin, db), "title": "Patching",
                          "body": "Short pause.", "horizon_days": 7})
    assert r.status_code == 201, r.text
    series_id = r.json()["id"]
    clock.advance(days=2, hours=3)  # Wednesday 15:00 UTC: next Monday and Wednesday due
    together = (threading.Barrier(2, timeout=30)
                if runtime.engine.dialect.name == "postgresql" else None)
    results: list[int] = []

    def work() -> None:
        with runtime.sessions() as session, session.begin():
            series = session.get(StatusMaintenanceSeries, series_id)
            assert series is not None
            if together is not None:
                together.wait()
            results.append(sp.announce_series(session, series=series, now=clock.now(),
                                              base_url=runtime.settings.public_url))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 2]
    starts = [m["scheduled_for"][:16] for m in _maintenances(client)]
    assert len(starts) == len(set(starts)) == 5


def test_the_cli_announces_a_recurring_window(client: TestClient, runtime: Runtime,
                                              admin: Account,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    db = service(client, admin, "db")
    p = page(client, admin)
    cid = component(client, admin, p["id"], "Database", [db])
    window = _weekly(client, admin, db)
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        series = cli.json("statuspage", "maintenance", "acme", str(window), "--title",
                          "Patching", "--body", "Short pause.", "--horizon-days", "3")
    assert series["kind"] == "recurring" and series["component_ids"] == [cid]
    assert [u["scheduled_for"][:10] for u in series["upcoming"]] == ["2026-01-05",
                                                                     "2026-01-07"]
