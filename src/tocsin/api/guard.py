"""Request bodies: capped everywhere, and read only after the caller is authenticated.

FastAPI reads and parses a route's body before it runs the route's dependencies, so an
anonymous client could make the server read (and parse) a body of any size before hearing
401. This middleware wraps `receive`: the first time the body is asked for, the router has
already matched the route (`scope["route"]`), and if that route authenticates its caller
(depends on one of `checks`), the check runs first; the body is then counted against
`api_max_body_bytes` as it arrives (or refused at once on a larger Content-Length).

Alert intake and heartbeat pings keep their own caps and answer shapes (`own_caps`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.api.problems import problem
from tocsin.errors import TocsinError
from tocsin.runtime import Runtime

EarlyCheck = Callable[[Request, Runtime], None]
BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


class Refused(StarletteHTTPException):
    """Raised from `receive`: FastAPI passes HTTP exceptions from body reading through to the
    problem+json handlers (any other exception there would become a 400)."""


def _too_large(limit: int) -> Refused:
    return Refused(413, f"the request body is larger than {limit} bytes "
                        "(setting api_max_body_bytes)")


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        if current.call is not None:
            found.add(current.call)
        stack.extend(current.dependencies)
    return found


class RequestGuard:
    def __init__(self, app: ASGIApp, runtime: Runtime, checks: Mapping[Callable[..., Any],
                 EarlyCheck], own_caps: tuple[str, ...]) -> None:
        self.app = app
        self.runtime = runtime
        self.checks = dict(checks)
        self.own_caps = own_caps
        self._route_checks: dict[int, EarlyCheck | None] = {}

    def _check_for(self, route: object) -> EarlyCheck | None:
        key = id(route)
        if key not in self._route_checks:
            check = None
            if isinstance(route, APIRoute):
                calls = _calls(route.dependant)
                check = next((c for dep, c in self.checks.items() if dep in calls), None)
            self._route_checks[key] = check
        return self._route_checks[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.own_caps):
            await self.app(scope, receive, send)
            return
        limit = self.runtime.settings.api_max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            error = _too_large(limit)
            await problem(413, "Content Too Large", error.detail)(scope, receive, send)
            return
        checked = scope["method"] in BODILESS  # a GET's receive() only waits for disconnect
        size = 0

        async def guarded_receive() -> Message:
            nonlocal checked, size
            if not checked:
                checked = True
                check = self._check_for(scope.get("route"))
                if check is not None:
                    try:
                        await anyio.to_thread.run_sync(check, Request(scope), self.runtime)
                    except TocsinError as exc:
                        raise Refused(exc.status_code, exc.detail) from None
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, guarded_receive, send)
