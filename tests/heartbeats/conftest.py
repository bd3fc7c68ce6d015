from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.app import create_app, create_served_app
from tocsin.runtime import Runtime


@pytest.fixture(params=["fastapi routes", "ping lane"])
def client(request: pytest.FixtureRequest, runtime: Runtime) -> Iterator[TestClient]:
    """Every heartbeat test runs against the FastAPI routes and against the lean ping lane
    `tocsin serve` puts in front of them: both must behave the same."""
    served = create_served_app(runtime) if request.param == "ping lane" else create_app(runtime)
    with TestClient(served, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def service_id(client: TestClient, admin: Account) -> int:
    r = client.post("/api/v1/services", json={"name": "billing", "tier": "critical"},
                    headers=admin.headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.fixture
def make_heartbeat(client: TestClient, admin: Account,
                   service_id: int) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 100_000))

    def make(**overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"name": f"nightly backup {next(counter)}",
                                "service_id": service_id, "period_seconds": 3600,
                                "grace_seconds": 300}
        body.update(overrides)
        r = client.post("/api/v1/heartbeats", json=body, headers=admin.headers)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    return make


def ping_path(hb: dict[str, Any], suffix: str = "") -> str:
    return "/ping/" + hb["ping_url"].rsplit("/ping/", 1)[1] + suffix
