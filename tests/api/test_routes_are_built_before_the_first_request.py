"""A fresh app builds its routes' state at startup (its lifespan, api/warmup.py), so the first
request a new process answers does not pay for four hundred routes. Before, a browser test's
first page in a loaded CI run waited over 15 s for it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from tocsin.api.warmup import warm_routes
from tocsin.app import create_app
from tocsin.runtime import Runtime


@pytest.fixture
def route_builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the endpoints whose dependency state FastAPI builds, from now on."""
    built: list[str] = []
    real = fastapi.routing.get_dependant

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(getattr(kwargs.get("call"), "__name__", "?"))
        return real(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "get_dependant", counting)
    yield built


def test_without_startup_the_first_request_builds_every_route(
        runtime: Runtime, route_builds: list[str]) -> None:
    # What the warm-up is for: FastAPI builds lazily, on the first request routed.
    client = TestClient(create_app(runtime))  # not entered: no lifespan
    assert client.get("/login").status_code == 200
    assert len(route_builds) > 100, route_builds


def test_after_startup_the_first_request_builds_nothing(
        runtime: Runtime, route_builds: list[str]) -> None:
    app = create_app(runtime)
    with TestClient(app) as client:  # runs the lifespan, as uvicorn does before listening
        started = len(route_builds)
        assert started > 100
        assert client.get("/login").status_code == 200
        assert client.get("/api/v1/incidents").status_code == 401
        assert client.get("/postmortems/1", follow_redirects=False).status_code == 303
        assert route_builds[started:] == []


def test_the_warm_up_request_matches_no_route(runtime: Runtime) -> None:
    app = create_app(runtime)
    assert asyncio.run(warm_routes(app.router)) == 404
