"""Ping URLs: start, success, fail, exit codes; stored before answered; bodies capped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import Account
from tests.heartbeats.conftest import ping_path
from tocsin.clock import FrozenClock
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing
from tocsin.runtime import Runtime


def test_bad_schedules_are_refused_and_nothing_stored(client: TestClient, admin: Account,
                                                      service_id: int, runtime: Runtime) -> None:
    base = {"name": "x", "service_id": service_id, "grace_seconds": 60}
    cases = [
        ({**base}, "either period_seconds or cron"),
        ({**base, "period_seconds": 60, "cron": "* * * * *"}, "not both"),
        ({**base, "cron": "61 * * * *"}, "not a cron expression"),
        ({**base, "cron": "0 0 31 4 *"}, "never fires"),
        ({**base, "cron": "0 3 * * *", "time_zone": "Nowhere/Town"}, "unknown time zone"),
        ({**base, "period_seconds": 2}, "below the floor"),
    ]
    for body, message in cases:
        r = client.post("/api/v1/heartbeats", json=body, headers=admin.headers)
        assert r.status_code == 422 and message in r.json()["detail"], (body, r.text)
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Heartbeat)) == 0


def test_success_ping_is_stored_and_sets_the_deadline(
        client: TestClient, admin: Account, clock: FrozenClock, runtime: Runtime,
        make_heartbeat: Callable[..., dict[str, Any]]) -> None:
    hb = make_heartbeat(period_seconds=3600, grace_seconds=300)
    assert hb["status"] == "new" and hb["ping_url"].startswith("http")
    r = client.post(ping_path(hb), content=b"backup: 42 files")
    assert r.status_code == 200 and r.text == "OK\n"
    # Durable: a fresh session (another connection) sees it as soon as the answer arrived.
    with runtime.sessions() as s:
        ping = s.scalars(select(HeartbeatPing)).one()
        assert ping.kind == "success" and ping.body == "backup: 42 files"
    out = client.get(f"/api/v1/heartbeats/{hb['id']}", headers=admin.headers).json()
    assert out["status"] == "up"
    assert out["due_at"].startswith("2026-01-05T13:05:00")  # ping 12:00 + 1 h + 5 min grace


def test_start_then_success_records_the_run_duration(
        client: TestClient, admin: Account, clock: FrozenClock,
        make_heartbeat: Callable[..., dict[str, Any]]) -> None:
    hb = make_heartbeat()
    assert client.get(ping_path(hb, "/start")).status_code == 200
    assert client.get(f"/api/v1/heartbeats/{hb['id']}",
                      headers=admin.headers).json()["status"] == "started"
    clock.advance(seconds=95)
    client.get(ping_path(hb, "/0"))
    out = client.get(f"/api/v1/heartbeats/{hb['id']}", headers=admin.headers).json()
    assert out["status"] == "up" and out["last_duration_ms"] == 95_000
    pings = client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=admin.headers).json()
    assert [p["kind"] for p in pings] == ["success", "start"]
    assert pings[0]["exit_code"] == 0 and pings[0]["duration_ms"] == 95_000


def test_fail_and_nonzero_exit_code_mark_failed(
        client: TestClient, admin: Account, make_heartbeat: Callable[..., dict[str, Any]],
        runtime: Runtime) -> None:
    hb = make_heartbeat()
    client.post(ping_path(hb, "/fail"), content=b"disk full")
    assert client.get(f"/api/v1/heartbeats/{hb['id']}",
                      headers=admin.headers).json()["status"] == "failed"
    client.get(ping_path(hb))
    hb2 = make_heartbeat()
    client.post(ping_path(hb2, "/3"))
    out = client.get(f"/api/v1/heartbeats/{hb2['id']}", headers=admin.headers).json()
    assert out["status"] == "failed"
    pings = client.get(f"/api/v1/heartbeats/{hb2['id']}/pings", headers=admin.headers).json()
    assert pings[0]["kind"] == "fail" and pings[0]["exit_code"] == 3


def test_body_is_capped_and_bad_urls_answer_clearly(
        client: TestClient, admin: Account, make_heartbeat: Callable[..., dict[str, Any]],
        runtime: Runtime) -> None:
    hb = make_heartbeat()
    cap = runtime.settings.heartbeat_body_max_bytes
    assert client.post(ping_path(hb), content=b"a" * (cap * 5)).status_code == 200
    pings = client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=admin.headers).json()
    assert len(pings[0]["body"]) == cap
    r = client.get("/ping/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404 and "no heartbeat" in r.json()["detail"]
    assert client.get(ping_path(hb, "/256")).status_code == 422
