"""Period heartbeats go late after period + grace; a started run goes late after the grace;
the late job raises one alert however often it runs; paused heartbeats expect nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.heartbeats.conftest import ping_path
from tocsin.alerts.models import Alert
from tocsin.clock import FrozenClock
from tocsin.heartbeats import service as heartbeats
from tocsin.runtime import Runtime


def late(runtime: Runtime, clock: FrozenClock) -> int:
    with runtime.sessions() as s, s.begin():
        return heartbeats.mark_late(s, now=clock.now(), settings=runtime.settings)


def status(client: TestClient, admin: Account, hb: dict[str, Any]) -> str:
    out: str = client.get(f"/api/v1/heartbeats/{hb['id']}", headers=admin.headers).json()["status"]
    return out


def test_period_heartbeat_goes_late_once(client: TestClient, admin: Account, runtime: Runtime,
                                         clock: FrozenClock,
                                         make_heartbeat: Callable[..., dict[str, Any]]) -> None:
    hb = make_heartbeat(period_seconds=600, grace_seconds=60)
    assert late(runtime, clock) == 0  # new: nothing expected yet
    client.get(ping_path(hb))
    clock.advance(seconds=659)
    assert late(runtime, clock) == 0 and status(client, admin, hb) == "up"
    clock.advance(seconds=1)
    assert late(runtime, clock) == 1 and status(client, admin, hb) == "late"
    clock.advance(seconds=600)
    assert late(runtime, clock) == 0
    with runtime.sessions() as s:
        assert len(s.scalars(select(Alert)).all()) == 1


def test_started_run_that_never_finishes_goes_late(
        client: TestClient, admin: Account, runtime: Runtime, clock: FrozenClock,
        make_heartbeat: Callable[..., dict[str, Any]]) -> None:
    hb = make_heartbeat(period_seconds=86400, grace_seconds=300)
    client.get(ping_path(hb))
    clock.advance(timedelta(hours=1))
    client.get(ping_path(hb, "/start"))
    clock.advance(seconds=301)
    assert late(runtime, clock) == 1
    with runtime.sessions() as s:
        assert "did not finish" in s.scalars(select(Alert)).one().summary


def test_paused_heartbeat_expects_nothing(client: TestClient, admin: Account,
                                          runtime: Runtime, clock: FrozenClock,
                                          make_heartbeat: Callable[..., dict[str, Any]]) -> None:
    hb = make_heartbeat(period_seconds=60, grace_seconds=0)
    client.get(ping_path(hb))
    r = client.patch(f"/api/v1/heartbeats/{hb['id']}", json={"paused": True},
                     headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "paused"
    clock.advance(timedelta(days=2))
    assert late(runtime, clock) == 0
