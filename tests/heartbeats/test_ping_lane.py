"""The lean ping lane: same answers as the FastAPI routes, listed once each in OpenAPI."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.heartbeats.conftest import ping_path
from tocsin.app import create_app
from tocsin.heartbeats.fastlane import parse_ping_path
from tocsin.heartbeats.models import PingKind
from tocsin.runtime import Runtime


def test_ping_paths_are_recognised_exactly() -> None:
    assert parse_ping_path("/ping/abc") == ("abc", PingKind.SUCCESS, None, "/ping/{key}")
    assert parse_ping_path("/ping/abc/start")[1] == PingKind.START  # type: ignore[index]
    assert parse_ping_path("/ping/abc/fail")[1] == PingKind.FAIL  # type: ignore[index]
    assert parse_ping_path("/ping/abc/255")[2] == 255  # type: ignore[index]
    # Left to FastAPI, which answers them as it always did (404 / 422).
    for path in ("/ping/", "/ping/abc/256", "/ping/abc/-1", "/ping/abc/x", "/ping/a/b/c",
                 "/ping/" + "k" * 37, "/ping/abc/٣"):
        assert parse_ping_path(path) is None, path


def test_head_and_methods(client: TestClient, make_heartbeat: Callable[..., dict[str, Any]],
                          admin: Account) -> None:
    hb = make_heartbeat()
    r = client.head(ping_path(hb, "/start"))
    assert r.status_code == 200 and r.content == b""
    assert client.put(ping_path(hb), content=b"done").status_code == 200
    assert client.delete(ping_path(hb)).status_code == 405
    assert client.get(ping_path(hb, "/x")).status_code == 422
    pings = client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=admin.headers).json()
    assert [p["kind"] for p in pings] == ["success", "start"] and pings[0]["body"] == "done"


def test_ping_routes_have_unique_operation_ids(runtime: Runtime) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns on duplicate operation ids
        spec = create_app(runtime).openapi()
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert "ping_success_head" in ids and "ping_success_get" in ids
    assert set(spec["paths"]["/ping/{key}"]) == {"get", "post", "head", "put"}
