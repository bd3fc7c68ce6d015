"""Hot paths answered straight from ASGI, in front of the FastAPI app.

The hottest requests Tocsin answers (heartbeat pings, intake posts) are small, and FastAPI's
per-request work — routing through every route, dependency injection, the middleware stack —
costs more than answering them. A feature offers `FastRoute`s for such paths; `FastLane`
answers a request that matches one and passes every other request to the app untouched. The
features' fast routes are listed in one place, where the served app is assembled. Their
FastAPI routes stay: they document the paths in OpenAPI and serve them where the app runs
without the lane (tests, embedding), and must answer the same.

A handler may decline a request it does not recognise (a malformed ping path) by returning
False *before it reads the body*: the app then answers it, with its usual 404/405/422.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

# (scope, receive, send, the rest of the path after a prefix route's prefix) -> answered?
Handler = Callable[[Scope, Receive, Send, str], Awaitable[bool]]


@dataclass(frozen=True)
class FastRoute:
    """`path` is exact, or a prefix when it ends in "/" (the rest goes to the handler)."""

    path: str
    methods: frozenset[str]
    handle: Handler


class FastLane:
    """ASGI app: requests matching a fast route answered by its handler, all others by `app`.
    Prefix routes are tried in the order given (list the hottest first) and must not overlap:
    the first prefix a path starts with decides."""

    def __init__(self, app: ASGIApp, routes: Iterable[FastRoute]) -> None:
        self.app = app
        self._exact: dict[str, FastRoute] = {}
        self._prefixes: list[FastRoute] = []
        for route in routes:
            if route.path.endswith("/"):
                self._prefixes.append(route)
            else:
                self._exact[route.path] = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One flat function: this runs for every request the server gets.
        if scope["type"] == "http":
            path: str = scope["path"]
            route = self._exact.get(path)
            if route is None:
                for prefixed in self._prefixes:
                    if path.startswith(prefixed.path):
                        route = prefixed
                        break
            if route is not None and scope["method"] in route.methods and \
                    await route.handle(scope, receive, send, path[len(route.path):]):
                return
        await self.app(scope, receive, send)


def request_route(path: str, methods: Iterable[str], app: ASGIApp,
                  answer: Callable[[Request, str], Awaitable[Response]]) -> FastRoute:
    """A fast route answered by a Starlette-style handler, `answer(request, key)`: the same
    handler the feature's FastAPI route calls. On a prefix route the key is the rest of the
    path, which must be one non-empty path segment (else the app answers). `request.app` is
    `app`, as under FastAPI."""
    keyed = path.endswith("/")

    async def handle(scope: Scope, receive: Receive, send: Send, key: str) -> bool:
        if keyed and (not key or "/" in key):
            return False
        scope["app"] = app
        response = await answer(Request(scope, receive), key)
        await response(scope, receive, send)
        return True

    return FastRoute(path, frozenset(methods), handle)
