"""HTTP and TCP checks against real loopback servers, including broken ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.checks import servers
from tocsin.checks.execute import execute
from tocsin.checks.kinds.base import CheckOutcome, Resources


@pytest.fixture(scope="module")
def server() -> Iterator[servers.LoopbackServer]:
    with servers.serve() as s:
        yield s


def run(kind: str, config: dict[str, Any], timeout: float = 2.0,
        max_body: int = 1_048_576) -> CheckOutcome:
    async def go() -> CheckOutcome:
        resources = Resources(max_body_bytes=max_body)
        try:
            return await execute(kind, config, timeout, resources)
        finally:
            await resources.aclose()
    return asyncio.run(go())


def test_healthy_endpoint_passes_with_latency(server: servers.LoopbackServer) -> None:
    out = run("http", {"url": server.url("/ok"), "keyword": "systems go"})
    assert out.ok and out.reason is None and out.latency_ms is not None


def test_wrong_status_fails_with_the_status(server: servers.LoopbackServer) -> None:
    out = run("http", {"url": server.url("/fail")})
    assert not out.ok and "HTTP 503" in (out.reason or "")
    assert run("http", {"url": server.url("/fail"), "expected_status": [503]}).ok


def test_keyword_present_and_absent(server: servers.LoopbackServer) -> None:
    assert "not found" in (run("http", {"url": server.url("/ok"),
                                        "keyword": "ERROR"}).reason or "")
    assert "found in the body" in (run("http", {"url": server.url("/ok"),
                                               "keyword_absent": "hello"}).reason or "")


def test_json_path_assertion(server: servers.LoopbackServer) -> None:
    assert run("http", {"url": server.url("/json"), "json_path": "status.db",
                        "json_equals": "ok"}).ok
    assert run("http", {"url": server.url("/json"), "json_path": "status.items.1",
                        "json_equals": 2}).ok
    out = run("http", {"url": server.url("/json"), "json_path": "status.db",
                       "json_equals": "degraded"})
    assert not out.ok and '"ok"' in (out.reason or "")
    assert "not found" in (run("http", {"url": server.url("/json"),
                                        "json_path": "status.cache"}).reason or "")
    assert "not JSON" in (run("http", {"url": server.url("/ok"),
                                       "json_path": "a"}).reason or "")


def test_redirects_followed_or_not(server: servers.LoopbackServer) -> None:
    assert run("http", {"url": server.url("/redirect"), "keyword": "hello"}).ok
    out = run("http", {"url": server.url("/redirect"), "follow_redirects": False,
                       "expected_status": [200]})
    assert not out.ok and "HTTP 302" in (out.reason or "")


def test_maximum_latency(server: servers.LoopbackServer) -> None:
    out = run("http", {"url": server.url("/slow"), "max_latency_ms": 100})
    assert not out.ok and "limit 100 ms" in (out.reason or "")


def test_hanging_server_is_a_clean_timeout(server: servers.LoopbackServer) -> None:
    started = time.monotonic()
    out = run("http", {"url": server.url("/hang")}, timeout=1.0)
    assert not out.ok and "timed out after 1s" in (out.reason or "")
    # Generous for a loaded machine; the server would hold on for 120 s.
    assert time.monotonic() - started < 30


def test_a_body_that_stalls_is_a_clean_timeout(server: servers.LoopbackServer) -> None:
    # One deadline covers the whole exchange, not only the wait for the response's head.
    started = time.monotonic()
    out = run("http", {"url": server.url("/stall-body")}, timeout=1.0)
    assert not out.ok and out.reason == "timed out after 1s reading the body"
    assert time.monotonic() - started < 30  # the server would stall for 120 s


def test_method_headers_and_body_are_sent(server: servers.LoopbackServer) -> None:
    config = {"url": server.url("/echo"), "method": "POST", "body": "ping-payload",
              "headers": {"X-Token": "abc123"}}
    for expected in ("POST /echo HTTP/1.1", "X-Token: abc123", "User-Agent: tocsin-check/1",
                     "ping-payload"):
        out = run("http", {**config, "keyword": expected})
        assert out.ok, (expected, out.reason)
    # Without configured headers the default ones are still sent.
    assert run("http", {"url": server.url("/echo"), "keyword": "User-Agent: tocsin-check/1"}).ok
    assert not run("http", {"url": server.url("/echo"), "keyword": "X-Token"}).ok


def test_reset_connection_is_a_clean_failure(server: servers.LoopbackServer) -> None:
    out = run("http", {"url": server.url("/reset")})
    assert not out.ok
    assert any(word in (out.reason or "") for word in ("reset", "RemoteProtocolError",
                                                        "Disconnected", "closed"))


def test_endless_body_is_capped(server: servers.LoopbackServer) -> None:
    started = time.monotonic()
    out = run("http", {"url": server.url("/endless")}, timeout=60.0, max_body=200_000)
    assert not out.ok and "larger than 200000 bytes" in (out.reason or "")
    assert time.monotonic() - started < 30  # ended by the cap, long before the deadline


def test_garbage_answer_is_a_clean_failure(server: servers.LoopbackServer) -> None:
    out = run("http", {"url": server.url("/garbage")})
    assert not out.ok and out.reason


def test_refused_connection(server: servers.LoopbackServer) -> None:
    out = run("http", {"url": f"http://127.0.0.1:{servers.closed_port()}/"})
    assert not out.ok and out.reason


def test_tcp_open_and_closed_ports(server: servers.LoopbackServer) -> None:
    assert run("tcp", {"host": "127.0.0.1", "port": server.port}).ok
    out = run("tcp", {"host": "127.0.0.1", "port": servers.closed_port()})
    assert not out.ok and "cannot connect" in (out.reason or "")


def test_invalid_settings_fail_instead_of_raising() -> None:
    out = run("http", {"url": "ftp://example.com"})
    assert not out.ok and "invalid check settings" in (out.reason or "")
