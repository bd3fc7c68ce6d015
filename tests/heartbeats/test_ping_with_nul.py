"""A ping whose output holds NUL characters is still recorded (PostgreSQL cannot store NUL:
they are kept as U+FFFD), and a ping URL with NUL in its key is refused, not a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.heartbeats.conftest import ping_path
from tocsin.heartbeats.fastlane import parse_ping_path


def test_output_with_nul_is_recorded(client: TestClient, admin: Account,
                                     make_heartbeat: Callable[..., dict[str, Any]]) -> None:
    hb = make_heartbeat()
    r = client.post(ping_path(hb, "/fail"), content=b"backup: \x00 exit 3")
    assert r.status_code == 200, r.text
    pings = client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=admin.headers).json()
    assert [p["body"] for p in pings] == ["backup: \ufffd exit 3"]
    assert [p["kind"] for p in pings] == ["fail"]


def test_key_with_nul_is_refused(client: TestClient) -> None:
    assert parse_ping_path("/ping/ab\x00cd") is None
    r = client.get("/ping/ab%00cd")
    assert r.status_code == 422, r.text
