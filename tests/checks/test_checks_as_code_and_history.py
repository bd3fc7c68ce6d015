"""YAML import/export (checks as code), and uptime % / response-time history from rollups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import Account
from tocsin.checks import recording, rollup
from tocsin.checks.models import Check, CheckResult
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime

FILE = """
checks:
  - name: shop home
    service: checkout
    kind: http
    interval_seconds: 30
    timeout_seconds: 5
    config: {url: "https://shop.example.com/", keyword: "Add to cart"}
  - name: shop db
    service: checkout
    kind: tcp
    config: {host: db.internal, port: 5432}
    locations: [a, b, c]
    confirm_failures: 2
"""


def n_checks(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Check)) or 0)


def test_import_export_round_trip(client: TestClient, admin: Account, viewer: Account,
                                  service_id: int, runtime: Runtime) -> None:
    r = client.post("/api/v1/checks/import", content=FILE, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"created": ["shop home", "shop db"], "updated": []}
    # The file holds passwords and header values: admins only.
    assert client.get("/api/v1/checks/export", headers=viewer.headers).status_code == 403
    exported = client.get("/api/v1/checks/export", headers=admin.headers)
    assert exported.headers["content-type"].startswith("application/yaml")
    doc = yaml.safe_load(exported.text)
    by_name = {c["name"]: c for c in doc["checks"]}
    assert by_name["shop db"]["locations"] == ["a", "b", "c"]
    assert by_name["shop home"]["config"]["keyword"] == "Add to cart"
    # Importing the export again changes nothing but counts as updates.
    by_name["shop home"]["interval_seconds"] = 120
    again = client.post("/api/v1/checks/import", content=yaml.safe_dump(doc),
                        headers=admin.headers)
    assert again.json() == {"created": [], "updated": ["shop db", "shop home"]}
    assert client.get("/api/v1/checks?limit=10", headers=viewer.headers).json()["items"][0][
        "interval_seconds"] == 120
    assert client.post("/api/v1/checks/import", content=FILE,
                       headers=viewer.headers).status_code == 403


def test_bad_file_is_refused_whole(client: TestClient, admin: Account, service_id: int,
                                   runtime: Runtime) -> None:
    bad_second = FILE.replace("port: 5432", "port: 99999")
    cases = [
        (bad_second, "checks[2] (shop db)"),
        ("checks: [", "not valid YAML"),
        ("- just a list", "'checks' list"),
        (FILE.replace("service: checkout\n    kind: tcp", "service: nowhere\n    kind: tcp"),
         "no service named 'nowhere'"),
        (FILE.replace("interval_seconds: 30", "interval_seconds: 2"), "below the floor"),
    ]
    for text, message in cases:
        r = client.post("/api/v1/checks/import", content=text, headers=admin.headers)
        assert r.status_code == 422 and message in r.json()["detail"], (message, r.text)
    assert n_checks(runtime) == 0  # the valid first entry was not kept either


def test_uptime_and_latency_history_from_rollups(
        client: TestClient, viewer: Account, runtime: Runtime, clock: FrozenClock,
        make_check: Callable[..., dict[str, Any]]) -> None:
    check = make_check()
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    observations = []
    for minute in range(60):  # hour 1: 60 results, 3 failures; latency 10..69 ms
        observations.append(recording.Observation(
            check["id"], "server", start + timedelta(minutes=minute), minute not in (5, 6, 7),
            10 + minute, None if minute not in (5, 6, 7) else "HTTP 503"))
    for minute in range(30):  # hour 2: 30 results, all fine, 100 ms
        observations.append(recording.Observation(
            check["id"], "server", start + timedelta(hours=1, minutes=minute), True, 100, None))
    with runtime.sessions() as s, s.begin():
        recording.record(s, observations, now=clock.now(), settings=runtime.settings)
    clock.set(start + timedelta(hours=1, minutes=45))
    with runtime.sessions() as s, s.begin():
        rollup.roll_up(s, now=clock.now())
        rollup.roll_up(s, now=clock.now())  # idempotent

    hist = client.get(f"/api/v1/checks/{check['id']}/history?period=hour&days=1",
                      headers=viewer.headers).json()
    assert [(p["total"], p["ok"]) for p in hist["points"]] == [(60, 57), (30, 30)]
    assert hist["points"][0]["uptime_pct"] == 95.0
    assert hist["points"][0]["latency_avg_ms"] == 39.5 and hist["points"][0]["latency_max_ms"] == 69
    assert hist["uptime_pct"] == round(100 * 87 / 90, 3)
    daily = client.get(f"/api/v1/checks/{check['id']}/history?period=day",
                       headers=viewer.headers).json()
    assert [(p["total"], p["ok"]) for p in daily["points"]] == [(90, 87)]
    results = client.get(f"/api/v1/checks/{check['id']}/results?limit=5",
                         headers=viewer.headers).json()
    assert len(results) == 5 and results[0]["latency_ms"] == 100

    # Retention: raw results go after check_result_retention_days, rollups stay.
    clock.advance(timedelta(days=runtime.settings.check_result_retention_days, hours=3))
    with runtime.sessions() as s, s.begin():
        rollup.purge(s, now=clock.now(), settings=runtime.settings)
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CheckResult)) == 0
    assert len(client.get(f"/api/v1/checks/{check['id']}/history?period=hour&days=30",
                          headers=viewer.headers).json()["points"]) == 2


def test_viewers_see_checks_without_passwords_or_header_values(
        client: TestClient, admin: Account, viewer: Account, service_id: int) -> None:
    secret_file = """
checks:
  - name: api with token
    service: checkout
    kind: http
    config: {url: "https://api.example.com/health", headers: {Authorization: "Bearer s3cr3t"}}
  - name: orders db
    service: checkout
    kind: postgres
    config: {dsn: "postgresql://monitor:hunter2@db.internal:5432/orders"}
"""
    r = client.post("/api/v1/checks/import", content=secret_file, headers=admin.headers)
    assert r.status_code == 200, r.text
    as_viewer = client.get("/api/v1/checks?limit=10", headers=viewer.headers).json()["items"]
    by_name = {c["name"]: c for c in as_viewer}
    assert by_name["api with token"]["config"]["headers"] == {"Authorization": "***"}
    assert by_name["orders db"]["config"]["dsn"] == "postgresql://monitor:***@db.internal:5432/orders"
    shown = client.get(f"/api/v1/checks/{by_name['orders db']['id']}", headers=viewer.headers)
    assert "hunter2" not in shown.text
    # Admins manage the checks and see them whole.
    as_admin = client.get(f"/api/v1/checks/{by_name['orders db']['id']}", headers=admin.headers)
    assert as_admin.json()["config"]["dsn"].endswith("monitor:hunter2@db.internal:5432/orders")
