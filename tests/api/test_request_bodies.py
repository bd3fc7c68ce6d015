"""Request bodies: the caller is authenticated before a byte of the body is read, and
bodies larger than api_max_body_bytes get 413 in the problem+json shape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime

CHUNK = b" " * 65536


@dataclass
class Answer:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks_read: int = 0


def call(app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: int,
         declare_length: bool = True) -> Answer:
    """One request straight through ASGI, counting the body chunks the app pulled."""
    answer = Answer()
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-type", b"application/json"))
    if declare_length:
        raw_headers.append((b"content-length", str(chunks * len(CHUNK)).encode()))
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": raw_headers, "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8080)}

    async def receive() -> dict[str, Any]:
        if answer.chunks_read < chunks:
            answer.chunks_read += 1
            return {"type": "http.request", "body": CHUNK,
                    "more_body": answer.chunks_read < chunks}
        await asyncio.sleep(3600)  # nothing more: wait for the app to answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    # A thread of its own: other tests (playwright) may leave an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    return answer


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


def _problem(answer: Answer) -> dict[str, Any]:
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = json.loads(answer.body)
    return body


@pytest.mark.parametrize("declare_length", [True, False])
def test_anonymous_write_is_refused_before_the_body_is_read(app: FastAPI,
                                                            declare_length: bool) -> None:
    # 8 chunks of 64 KB: under the size cap, so only authentication can refuse it.
    answer = call(app, "POST", "/api/v1/incidents", {}, chunks=8,
                  declare_length=declare_length)
    assert answer.status == 401 and answer.chunks_read == 0
    assert "authentication required" in _problem(answer)["detail"]


def test_unknown_key_is_refused_before_the_body_is_read(app: FastAPI) -> None:
    answer = call(app, "PATCH", "/api/v1/users/1",
                  {"Authorization": "Bearer tsn_0123456789ab_nope"}, chunks=8)
    assert answer.status == 401 and answer.chunks_read == 0


def test_unknown_probe_token_is_refused_before_the_body_is_read(app: FastAPI) -> None:
    answer = call(app, "POST", "/api/v1/probe/results",
                  {"Authorization": "Bearer tprobe_nope"}, chunks=8)
    assert answer.status == 401 and answer.chunks_read == 0


def test_a_known_key_gets_its_body_read(app: FastAPI, responder: Account) -> None:
    answer = call(app, "POST", "/api/v1/incidents", responder.headers, chunks=1)
    # 64 KB of spaces is not JSON: the body was read and parsed, after authentication.
    assert answer.chunks_read == 1 and answer.status == 422


def test_declared_oversized_body_gets_413_without_reading(app: FastAPI,
                                                          responder: Account) -> None:
    answer = call(app, "POST", "/api/v1/incidents", responder.headers, chunks=320)  # 20 MB
    assert answer.status == 413 and answer.chunks_read == 0
    assert "api_max_body_bytes" in _problem(answer)["detail"]


def test_streamed_oversized_body_stops_at_the_cap(app: FastAPI, responder: Account) -> None:
    answer = call(app, "POST", "/api/v1/incidents", responder.headers, chunks=320,
                  declare_length=False)
    assert answer.status == 413
    assert answer.chunks_read <= 1_048_576 // len(CHUNK) + 1  # the default cap, 1 MiB
    assert _problem(answer)["status"] == 413


@pytest.fixture
def small_cap_client(make_settings: Callable[..., Settings], database_url: str,
                     clock: FrozenClock) -> Iterator[TestClient]:
    runtime = build_runtime(make_settings(database_url=database_url,
                                          api_max_body_bytes=4096), clock)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client
    runtime.close()


def test_the_cap_is_a_setting_and_covers_web_forms(small_cap_client: TestClient) -> None:
    r = small_cap_client.post("/login", data={"email": "x" * 5000, "password": "y"})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")


def test_alert_intake_keeps_its_own_cap_and_shape(small_cap_client: TestClient) -> None:
    event = {"routing_key": "0" * 32, "event_action": "trigger",
             "payload": {"summary": "x" * 8000, "source": "db1", "severity": "critical"}}
    r = small_cap_client.post("/v2/enqueue", json=event)
    # Past api_max_body_bytes but within intake_max_body_bytes: PagerDuty's own answer
    # about the (unknown) routing key, not a 413.
    assert r.status_code != 413 and r.json()["status"] == "invalid event", r.text
