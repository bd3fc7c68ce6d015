"""Route state built before the first request, not during it.

FastAPI (0.16x) builds each route's dependency and validation state lazily, the first time
routing walks past the route. With Tocsin's four hundred routes the first request a fresh
process answers paid for all of them: about 2-3 s on an idle two-core machine, and over
15 s under load (a browser test's first page once timed out on it). `warm_routes` sends one
request that no route matches through the router, so routing walks, and builds, every route;
the app runs it at startup (its lifespan), before the server accepts connections.

A served process (`app.state.freeze_after_startup`, set by `create_served_app`) then moves
what start-up made out of the garbage collector's sight, as `server.freeze_startup_objects`
does for the rest of start-up: the route state lives as long as the process.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message

# A path no route serves (no route starts with it, and it is not a prefix route's key).
UNROUTED = "/.tocsin-warm-up"


async def warm_routes(router: ASGIApp) -> int:
    """Route one GET for `UNROUTED` through `router`; returns the status it answered (404)."""
    answered: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": UNROUTED,
             "raw_path": UNROUTED.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"localhost")], "server": ("localhost", 80),
             "client": ("127.0.0.1", 0), "state": {}}
    await router(scope, receive, send)
    return answered[0] if answered else 0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await warm_routes(app.router)
    if getattr(app.state, "freeze_after_startup", False):
        gc.collect()
        gc.freeze()
    yield
