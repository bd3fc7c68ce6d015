""""Run now": the server runs the check at once, probes at their next pull; roles; bad ids."""

from __future__ import annotations

from collections.abc import Callable
from subprocess import Popen
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.checks import servers
from tests.checks.conftest import run_due_checks
from tests.conftest import STARTUP_SECONDS, Account
from tests.probe.conftest import LiveServer, live_server, spawn_probe, wait_for  # noqa: F401
from tests.web.conftest import web_login
from tocsin.checks.models import CheckResult
from tocsin.clock import FrozenClock
from tocsin.console import app
from tocsin.engine.models import Timer, TimerStatus
from tocsin.engine.timers import fire_due
from tocsin.jobs import TIMER_HANDLERS
from tocsin.probe.agent import ProbeAgent
from tocsin.runtime import Runtime


def results(runtime: Runtime, check_id: int) -> list[CheckResult]:
    with runtime.sessions() as s:
        return list(s.scalars(select(CheckResult).where(CheckResult.check_id == check_id)))


def test_run_now_makes_a_real_http_check_on_the_server_runner(
        client: TestClient, responder: Account, runtime: Runtime,
        http_server: servers.LoopbackServer,
        make_check: Callable[..., dict[str, Any]]) -> None:
    # An hour-long interval and a frozen clock: without "run now" it would not be due.
    check = make_check(config={"url": http_server.url("/ok")}, interval_seconds=3600)
    r = client.post(f"/api/v1/checks/{check['id']}/run", headers=responder.headers)
    assert r.status_code == 202, r.text
    assert r.json()["server"] is True and r.json()["probes"] == []
    assert r.json()["expires_at"] is None
    run_due_checks(runtime, expected=1)
    assert http_server.hits == ["/ok"]
    [result] = results(runtime, check["id"])
    assert result.ok and result.location == "server"
    detail = client.get(f"/api/v1/checks/{check['id']}", headers=responder.headers).json()
    assert detail["status"] == "up" and detail["last_checked_at"] is not None


def test_viewer_is_refused_unknown_check_is_404_paused_check_conflicts(
        client: TestClient, viewer: Account, responder: Account, admin: Account,
        make_check: Callable[..., dict[str, Any]]) -> None:
    check = make_check()
    r = client.post(f"/api/v1/checks/{check['id']}/run", headers=viewer.headers)
    assert r.status_code == 403
    r = client.post("/api/v1/checks/999999/run", headers=responder.headers)
    assert r.status_code == 404 and "check" in r.json()["detail"]
    client.patch(f"/api/v1/checks/{check['id']}", json={"enabled": False},
                 headers=admin.headers)
    r = client.post(f"/api/v1/checks/{check['id']}/run", headers=responder.headers)
    assert r.status_code == 409 and "paused" in r.json()["detail"]


def test_probes_get_the_request_at_their_next_pull_until_it_lapses(
        client: TestClient, admin: Account, responder: Account, runtime: Runtime,
        clock: FrozenClock, make_check: Callable[..., dict[str, Any]]) -> None:
    token = client.post("/api/v1/probes", json={"name": "eu-west"},
                        headers=admin.headers).json()["token"]
    probe = {"Authorization": f"Bearer {token}"}
    check = make_check(locations=["server", "eu-west"], interval_seconds=3600)
    other = make_check(locations=["eu-west"], interval_seconds=3600)

    def pulled() -> dict[int, Any]:
        r = client.get("/api/v1/probe/assignments", headers=probe)
        assert r.status_code == 200, r.text
        return {a["id"]: a["run_requested_at"] for a in r.json()}

    assert pulled() == {check["id"]: None, other["id"]: None}
    r = client.post(f"/api/v1/checks/{check['id']}/run", headers=responder.headers)
    assert r.status_code == 202 and r.json()["probes"] == ["eu-west"]
    assert r.json()["server"] is True and r.json()["expires_at"] is not None
    first = pulled()
    assert first[check["id"]] is not None and first[other["id"]] is None

    # The agent runs it once per request, however often it pulls the same request.
    agent = ProbeAgent(server="http://unused", token=token, location="eu-west")
    agent.apply_assignments(as_agent_sees(first, check, other), now=100.0)
    assert agent.checks[check["id"]].next_due == 100.0
    agent.checks[check["id"]].next_due = 3700.0  # it ran; the runner moved it on
    agent.apply_assignments(as_agent_sees(pulled(), check, other), now=105.0)
    assert agent.checks[check["id"]].next_due == 3700.0

    # Unclaimed for `probe_offline_seconds`, the request lapses quietly.
    clock.advance(seconds=runtime.settings.probe_offline_seconds + 1)
    with runtime.sessions() as s, s.begin():
        fired = fire_due(s, now=clock.now(), handlers=TIMER_HANDLERS,
                         settings=runtime.settings, worker_id="test", limit=100)
    assert fired.fired == 1 and fired.failed == 0
    with runtime.sessions() as s:
        assert s.scalars(select(Timer.status)).one() == TimerStatus.DONE.value
    assert pulled()[check["id"]] is None


def as_agent_sees(pulled: dict[int, Any], *made: dict[str, Any]) -> list[dict[str, Any]]:
    """Assignments as the agent receives them, with the pulled run stamps."""
    return [{"id": c["id"], "kind": c["kind"], "interval_seconds": c["interval_seconds"],
             "timeout_seconds": c["timeout_seconds"], "config": c["config"],
             "run_requested_at": pulled[c["id"]]} for c in made]


def test_cli_run_now_reaches_a_probe_process_at_its_next_pull(
        live_server: LiveServer, spawn_probe: Callable[..., Popen[bytes]],  # noqa: F811
        http_server: servers.LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with live_server.api() as api:
        service = api.post("/api/v1/services", json={"name": "checkout"}).json()
        # A day-long interval: its first run falls somewhere in the next 24 hours.
        check = api.post("/api/v1/checks", json={
            "name": "shop", "kind": "http", "service_id": service["id"],
            "interval_seconds": 86400, "timeout_seconds": 5, "locations": ["eu-west"],
            "config": {"url": http_server.url("/ok")}}).json()
    spawn_probe("eu-west")
    wait_for(lambda: probe_status(live_server) == "online", STARTUP_SECONDS,
             "the probe's first pull")
    monkeypatch.setenv("TOCSIN_URL", live_server.url)
    monkeypatch.setenv("TOCSIN_TOKEN", live_server.admin.token)
    out = CliRunner().invoke(app, ["check", "run", str(check["id"])])
    assert out.exit_code == 0, out.output
    assert "scheduled now at: eu-west" in out.output
    wait_for(lambda: bool(latest(live_server, check["id"])), 30, "the probe's result")
    [result] = latest(live_server, check["id"])
    assert result["location"] == "eu-west" and result["ok"] is True
    assert http_server.hits == ["/ok"]


def probe_status(server: LiveServer) -> str:
    with server.api() as api:
        return str(api.get("/api/v1/probes").json()["items"][0]["status"])


def latest(server: LiveServer, check_id: int) -> list[dict[str, Any]]:
    with server.api() as api:
        found: list[dict[str, Any]] = api.get(f"/api/v1/checks/{check_id}/results").json()
        return found


def test_run_now_button_on_the_check_page(
        client: TestClient, responder: Account, viewer: Account, runtime: Runtime,
        http_server: servers.LoopbackServer,
        make_check: Callable[..., dict[str, Any]]) -> None:
    check = make_check(name="shop", config={"url": http_server.url("/ok")},
                       interval_seconds=3600)
    csrf = web_login(client, viewer)
    assert "Run now" not in client.get(f"/checks/{check['id']}").text
    assert client.post(f"/checks/{check['id']}/run",
                       data={"csrf_token": csrf}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})

    csrf = web_login(client, responder)
    page = client.get(f"/checks/{check['id']}").text
    assert f'action="/checks/{check["id"]}/run"' in page and "Run now" in page
    assert client.post(f"/checks/{check['id']}/run", data={}).status_code == 403  # no CSRF
    r = client.post(f"/checks/{check['id']}/run", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/checks/{check['id']}")
    page = client.get(r.headers["location"]).text
    assert "Run of shop scheduled (this server)" in page and "refresh in a few seconds" in page
    assert "No results yet." in page
    run_due_checks(runtime, expected=1)
    page = client.get(f"/checks/{check['id']}").text
    assert "No results yet." not in page and 'class="loc loc-up">ok<' in page
