"""Fixtures for detection tests: a service, check creation over the API, one runner pass."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.checks import servers
from tests.conftest import Account
from tocsin.checks.runner import CheckRunner
from tocsin.runtime import Runtime


@pytest.fixture
def http_server() -> Iterator[servers.LoopbackServer]:
    with servers.serve() as s:
        yield s


@pytest.fixture
def service_id(client: TestClient, admin: Account) -> int:
    r = client.post("/api/v1/services", json={"name": "checkout", "tier": "critical"},
                    headers=admin.headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def make_check(client: TestClient, admin: Account,
               service_id: int) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 100_000))

    def make(**overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"name": f"check {next(counter)}", "kind": "http",
                                "service_id": service_id, "interval_seconds": 30,
                                "timeout_seconds": 2, "config": {"url": "http://127.0.0.1:9/"}}
        body.update(overrides)
        r = client.post("/api/v1/checks", json=body, headers=admin.headers)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    return make


def run_due_checks(runtime: Runtime, expected: int, timeout: float = 30.0) -> CheckRunner:
    """Run the real runner loop until `expected` checks finished, then stop (stores results)."""
    runner = CheckRunner(runtime, concurrency=50)
    runner.start()
    deadline = time.monotonic() + timeout
    while runner.stats.finished < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    assert runner.stats.finished >= expected, f"only {runner.stats.finished} ran"
    return runner
