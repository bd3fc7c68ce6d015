"""/metrics: loopback clients only by default; a token opens it to scrapers elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.settings import Settings
from tocsin.wiring import build_runtime

LOOPBACK, REMOTE, LOOPBACK6 = ("127.0.0.1", 50000), ("192.0.2.7", 50000), ("::1", 50000)


@pytest.fixture
def make_client(make_settings: Callable[..., Settings], database_url: str,
                clock: FrozenClock) -> Iterator[Callable[..., TestClient]]:
    runtimes = []

    def make(peer: tuple[str, int], **overrides: object) -> TestClient:
        runtime = build_runtime(make_settings(database_url=database_url, **overrides), clock)
        runtimes.append(runtime)
        return TestClient(create_app(runtime), client=peer)

    yield make
    for runtime in runtimes:
        runtime.close()


def test_by_default_only_loopback_clients_are_served(make_client: Callable[..., TestClient]
                                                     ) -> None:
    assert make_client(LOOPBACK).get("/metrics").status_code == 200
    assert make_client(LOOPBACK6).get("/metrics").status_code == 200
    r = make_client(REMOTE).get("/metrics")
    assert r.status_code == 403 and "TOCSIN_METRICS_TOKEN" in r.json()["detail"]
    assert "tocsin_http_requests_total" not in r.text


def test_a_token_is_required_from_everyone_when_set(make_client: Callable[..., TestClient]
                                                    ) -> None:
    for peer in (REMOTE, LOOPBACK):
        client = make_client(peer, metrics_token="scrape-me-please-0123")
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}
                          ).status_code == 401
        r = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please-0123"})
        assert r.status_code == 200 and "tocsin_http_requests_total" in r.text


def test_metrics_public_opens_it_to_anyone(make_client: Callable[..., TestClient]) -> None:
    assert make_client(REMOTE, metrics_public=True).get("/metrics").status_code == 200
