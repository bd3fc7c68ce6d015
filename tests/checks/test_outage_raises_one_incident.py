"""The server runner end to end: real target, results stored, confirmation, one alert and one
incident per outage through intake, resolved on recovery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.checks import servers
from tests.checks.conftest import run_due_checks
from tests.conftest import Account
from tocsin.alerts.models import Alert
from tocsin.checks.models import CheckResult
from tocsin.clock import FrozenClock
from tocsin.incidents.models import Incident
from tocsin.runtime import Runtime


def counts(runtime: Runtime) -> tuple[int, int, int]:
    with runtime.sessions() as s:
        return (int(s.scalar(select(func.count()).select_from(CheckResult)) or 0),
                int(s.scalar(select(func.count()).select_from(Alert)) or 0),
                int(s.scalar(select(func.count()).select_from(Incident)) or 0))


def test_outage_confirmed_after_n_failures_gives_one_alert_one_incident(
        client: TestClient, admin: Account, runtime: Runtime, clock: FrozenClock,
        http_server: servers.LoopbackServer,
        make_check: Callable[..., dict[str, Any]]) -> None:
    check = make_check(config={"url": http_server.url("/ok")}, interval_seconds=30,
                       confirm_failures=2)
    clock.advance(seconds=31)
    run_due_checks(runtime, 1)
    detail = client.get(f"/api/v1/checks/{check['id']}", headers=admin.headers).json()
    assert detail["status"] == "up" and detail["per_location"][0]["ok"] is True
    assert counts(runtime) == (1, 0, 0)

    # The target breaks: first failure is not yet confirmed (N = 2).
    client.patch(f"/api/v1/checks/{check['id']}",
                 json={"config": {"url": http_server.url("/fail")}}, headers=admin.headers)
    clock.advance(seconds=31)
    run_due_checks(runtime, 1)
    assert client.get(f"/api/v1/checks/{check['id']}",
                      headers=admin.headers).json()["status"] == "up"
    assert counts(runtime)[1:] == (0, 0)

    for expected_results in (3, 4, 5):  # confirmed, then still down: no second alert
        clock.advance(seconds=31)
        run_due_checks(runtime, 1)
        assert counts(runtime) == (expected_results, 1, 1)
    detail = client.get(f"/api/v1/checks/{check['id']}", headers=admin.headers).json()
    assert detail["status"] == "down" and "HTTP 503" in detail["status_reason"]
    with runtime.sessions() as s:
        alert = s.scalars(select(Alert)).one()
        assert alert.source == f"check:{check['id']}" and alert.service_id == check["service_id"]
        incident = s.get(Incident, alert.incident_id)
        assert incident is not None and incident.detection_source == "monitor"

    # Recovery, confirmed the same way (2 successes), resolves the alert.
    client.patch(f"/api/v1/checks/{check['id']}",
                 json={"config": {"url": http_server.url("/ok")}}, headers=admin.headers)
    for _ in range(2):
        clock.advance(seconds=31)
        run_due_checks(runtime, 1)
    assert client.get(f"/api/v1/checks/{check['id']}",
                      headers=admin.headers).json()["status"] == "up"
    with runtime.sessions() as s:
        assert s.scalars(select(Alert)).one().status == "resolved"
    assert counts(runtime)[1:] == (1, 1)


def test_hanging_and_endless_targets_never_stall_the_runner(
        runtime: Runtime, clock: FrozenClock, http_server: servers.LoopbackServer,
        make_check: Callable[..., dict[str, Any]], client: TestClient,
        admin: Account) -> None:
    hang = make_check(config={"url": http_server.url("/hang")}, timeout_seconds=1)
    endless = make_check(config={"url": http_server.url("/endless")}, timeout_seconds=3)
    ok = make_check(config={"url": http_server.url("/ok")})
    clock.advance(seconds=31)
    runner = run_due_checks(runtime, 3)
    assert runner.stats.failed == 2
    reasons = {c["id"]: client.get(f"/api/v1/checks/{c['id']}", headers=admin.headers)
               .json()["per_location"][0] for c in (hang, endless, ok)}
    assert "timed out" in reasons[hang["id"]]["reason"]
    assert "larger than" in reasons[endless["id"]]["reason"]
    assert reasons[ok["id"]]["ok"] is True
