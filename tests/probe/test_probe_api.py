"""Probe endpoints over the API (no processes): tokens, assignments, K-of-M confirmation from
pushed results, offline probes leaving the quorum, and resolving when a down check is paused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tocsin.alerts.models import Alert
from tocsin.checks import probes
from tocsin.clock import FrozenClock
from tocsin.incidents.models import Incident
from tocsin.runtime import Runtime


@pytest.fixture
def service_id(client: TestClient, admin: Account) -> int:
    r = client.post("/api/v1/services", json={"name": "api", "tier": "high"},
                    headers=admin.headers)
    return int(r.json()["id"])


@pytest.fixture
def register(client: TestClient, admin: Account) -> Callable[[str], dict[str, str]]:
    def make(name: str) -> dict[str, str]:
        r = client.post("/api/v1/probes", json={"name": name}, headers=admin.headers)
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}", "X-Probe-Location": name}
    return make


def push(client: TestClient, headers: dict[str, str], check_id: int, ok: bool,
         clock: FrozenClock, reason: str | None = None) -> dict[str, Any]:
    r = client.post("/api/v1/probe/results", headers=headers, json={"results": [
        {"check_id": check_id, "at": clock.now().isoformat(), "ok": ok, "latency_ms": 12,
         "reason": reason}]})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_tokens_and_assignments(client: TestClient, admin: Account, viewer: Account,
                                service_id: int,
                                register: Callable[[str], dict[str, str]]) -> None:
    assert client.post("/api/v1/probes", json={"name": "x1"},
                       headers=viewer.headers).status_code == 403
    assert client.post("/api/v1/probes", json={"name": "server"},
                       headers=admin.headers).status_code == 422
    a = register("eu-west")
    r = client.post("/api/v1/checks", headers=admin.headers, json={
        "name": "eu", "kind": "tcp", "service_id": service_id, "interval_seconds": 20,
        "timeout_seconds": 3, "config": {"host": "127.0.0.1", "port": 5432},
        "locations": ["eu-west"]})
    check_id = r.json()["id"]
    client.post("/api/v1/checks", headers=admin.headers, json={
        "name": "local", "kind": "tcp", "service_id": service_id, "interval_seconds": 20,
        "timeout_seconds": 3, "config": {"host": "127.0.0.1", "port": 5432}})
    got = client.get("/api/v1/probe/assignments", headers=a).json()
    assert [c["id"] for c in got] == [check_id] and got[0]["config"]["port"] == 5432
    assert client.get("/api/v1/probe/assignments",
                      headers={"Authorization": "Bearer tprobe_nope"}).status_code == 401
    assert client.get("/api/v1/probe/assignments",
                      headers={**a, "X-Probe-Location": "us-east"}).status_code == 403
    assert client.get("/api/v1/probe/assignments", headers=admin.headers).status_code == 401
    # Results for a check not assigned to this probe are ignored, not stored.
    r = client.post("/api/v1/probe/results", headers=a, json={"results": [
        {"check_id": check_id + 1, "at": "2026-01-05T12:00:00Z", "ok": False},
        {"check_id": check_id, "at": "2026-01-05T12:00:00Z", "ok": True}]})
    assert r.json() == {"accepted": 1, "ignored": 1}


def test_k_of_m_from_pushed_results_and_offline_probe(
        client: TestClient, admin: Account, runtime: Runtime, clock: FrozenClock,
        service_id: int, register: Callable[[str], dict[str, str]]) -> None:
    heads = {name: register(name) for name in ("a", "b", "c")}
    check = client.post("/api/v1/checks", headers=admin.headers, json={
        "name": "api health", "kind": "http", "service_id": service_id,
        "interval_seconds": 30, "timeout_seconds": 5,
        "config": {"url": "https://api.example.com/health"},
        "locations": ["a", "b", "c"]}).json()
    for name in heads:
        push(client, heads[name], check["id"], True, clock)
    status = lambda: client.get(f"/api/v1/checks/{check['id']}",  # noqa: E731
                                headers=admin.headers).json()["status"]
    assert status() == "up"
    push(client, heads["a"], check["id"], False, clock, "HTTP 500")
    assert status() == "up"  # 1 of 3
    push(client, heads["b"], check["id"], False, clock, "HTTP 500")
    assert status() == "down"  # 2 of 3
    with runtime.sessions() as s:
        assert len(s.scalars(select(Alert)).all()) == 1
        assert len(s.scalars(select(Incident)).all()) == 1

    # c goes silent (its last word was "up"); a and b keep failing. c is marked offline.
    clock.advance(timedelta(seconds=runtime.settings.probe_offline_seconds + 1))
    push(client, heads["a"], check["id"], False, clock, "HTTP 500")
    push(client, heads["b"], check["id"], False, clock, "HTTP 500")
    with runtime.sessions() as s, s.begin():
        assert probes.mark_silent_offline(s, now=clock.now(), settings=runtime.settings) == ["c"]
    with runtime.sessions() as s, s.begin():  # twice: still one offline alert
        assert probes.mark_silent_offline(s, now=clock.now(), settings=runtime.settings) == []
    # b recovers. With c out of the quorum M = 2 and K = 2: one passing location is not a
    # recovery (had c counted, its stale "up" would have made it 2 of 3).
    push(client, heads["b"], check["id"], True, clock)
    assert status() == "down"
    push(client, heads["a"], check["id"], True, clock)
    assert status() == "up"
    with runtime.sessions() as s:
        by_source = {a.source: a.status for a in s.scalars(select(Alert))}
    assert by_source == {f"check:{check['id']}": "resolved", "probe:c": "firing"}

    # c comes back: online again, its alert resolves.
    client.get("/api/v1/probe/assignments", headers=heads["c"])
    with runtime.sessions() as s:
        assert {a.source: a.status for a in s.scalars(select(Alert))}["probe:c"] == "resolved"


def test_pausing_a_down_check_resolves_its_alert(
        client: TestClient, admin: Account, runtime: Runtime, clock: FrozenClock,
        service_id: int, register: Callable[[str], dict[str, str]]) -> None:
    a = register("solo")
    check = client.post("/api/v1/checks", headers=admin.headers, json={
        "name": "solo", "kind": "tcp", "service_id": service_id, "interval_seconds": 30,
        "timeout_seconds": 5, "config": {"host": "db.internal", "port": 5432},
        "locations": ["solo"]}).json()
    push(client, a, check["id"], False, clock, "refused")
    with runtime.sessions() as s:
        assert s.scalars(select(Alert)).one().status == "firing"
    r = client.patch(f"/api/v1/checks/{check['id']}", json={"enabled": False},
                     headers=admin.headers)
    assert r.json()["status"] == "paused"
    with runtime.sessions() as s:
        assert s.scalars(select(Alert)).one().status == "resolved"
