"""The ping URLs as a fast route (api/fastlane.py), answered in front of the FastAPI app.

A cron job's ping is the hottest request Tocsin answers, and the smallest: a key in the path,
maybe a body, "OK". `PingAnswer` answers well-formed ping requests directly and declines
everything else — malformed ping URLs get FastAPI's usual 404/405/422 answers. The FastAPI
routes in `api.py` stay: they document the URLs in OpenAPI and serve them where the app runs
without the fast lane (tests, embedding).

Same contract as the routes: the answer is sent only after the ping's transaction committed.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from tocsin.api.fastlane import FastRoute
from tocsin.errors import TocsinError
from tocsin.heartbeats.models import PingKind
from tocsin.heartbeats.writer import PingWriter, shared_writer
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.heartbeats")

METHODS = frozenset({"GET", "POST", "HEAD", "PUT"})
KEY_MAX = 36
OK_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"3")]
OK_BODY = b"OK\n"
SUFFIXES = {"start": PingKind.START, "fail": PingKind.FAIL}


def parse_ping_path(path: str) -> tuple[str, PingKind, int | None, str] | None:
    """(key, kind, exit code, route template) for a well-formed ping path, else None."""
    parts = path.split("/")  # "", "ping", key[, suffix]
    if len(parts) not in (3, 4) or parts[1] != "ping" or not 0 < len(parts[2]) <= KEY_MAX \
            or "\x00" in parts[2]:  # not a key, and PostgreSQL cannot compare it
        return None
    if len(parts) == 3:
        return parts[2], PingKind.SUCCESS, None, "/ping/{key}"
    suffix = parts[3]
    if suffix in SUFFIXES:
        return parts[2], SUFFIXES[suffix], None, f"/ping/{{key}}/{suffix}"
    if suffix.isascii() and suffix.isdigit() and int(suffix) <= 255:
        return parts[2], PingKind.SUCCESS, int(suffix), "/ping/{key}/{exit_code}"
    return None


async def read_capped(receive: Receive, cap: int) -> bytes:
    """At most `cap` bytes of the body; the rest is never buffered."""
    chunks: list[bytes] = []
    size = 0
    while size < cap:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        chunks.append(chunk[:cap - size])
        size += len(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _problem(status: int, title: str, detail: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"type": "about:blank", "title": title, "status": status,
                       "detail": detail}).encode()
    return status, [(b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode())], body


class PingAnswer:
    """The fast route's handler: a well-formed ping stored and answered, anything else
    declined (left to the app)."""

    def __init__(self, runtime: Runtime, state: Any) -> None:
        self.runtime = runtime
        self.state = state  # the FastAPI app's state: one ping writer shared with its routes
        self._writer: PingWriter | None = None
        # prometheus_client's labels() costs more than the rest of the answer: look each
        # (method, route, status) up once.
        self._metrics: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send, _rest: str) -> bool:
        parsed = parse_ping_path(scope["path"])
        if parsed is None:
            return False
        started = time.perf_counter()
        key, kind, exit_code, route = parsed
        rt = self.runtime
        body = await read_capped(receive, rt.settings.heartbeat_body_max_bytes)
        client = scope.get("client")
        writer = self._writer or self._start_writer()
        try:
            await writer.store(key, kind, exit_code, body, client[0] if client else None)
            status, headers, content = 200, OK_HEADERS, OK_BODY
        except TocsinError as exc:
            status, headers, content = _problem(exc.status_code, exc.title, exc.detail)
        except Exception:
            log.exception("could not store a ping")
            status, headers, content = _problem(
                500, "Internal error", "the ping could not be stored; send it again.")
        method = scope["method"]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else content})
        requests, latency = self._metrics.get((method, route, status)) or self._children(
            method, route, status)
        requests.inc()
        latency.observe(time.perf_counter() - started)
        return True

    def _start_writer(self) -> PingWriter:
        self._writer = shared_writer(self.state, self.runtime)
        return self._writer

    def _children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        metrics = self.runtime.metrics
        pair = (metrics.http_requests.labels(method, route, str(status)),
                metrics.http_latency.labels(route))
        self._metrics[(method, route, status)] = pair
        return pair


def fast_routes(state: Any, runtime: Runtime) -> list[FastRoute]:
    """The ping URLs as a fast route; `state` is the FastAPI app's, so that its routes and
    the fast route share one ping writer."""
    return [FastRoute("/ping/", METHODS, PingAnswer(runtime, state))]
