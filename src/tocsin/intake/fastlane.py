"""The intake endpoints served straight from ASGI, in front of the FastAPI app.

At tens of thousands of events per second FastAPI's per-request work — routing through
every route, dependency injection, the middleware stack — costs more than accepting the
event. This wrapper answers the hot intake paths itself with the very same handlers the
FastAPI routes call (so answers are identical, and the routes stay in the OpenAPI
document), and passes every other request to the app untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from tocsin.alerts.models import IntegrationKind
from tocsin.intake.routes import alertmanager, generic, opsgenie, pagerduty

Handler = Callable[[Request, str], Awaitable[Response]]


async def _pagerduty(request: Request, _key: str) -> Response:
    return await pagerduty.accept(request)


async def _opsgenie(request: Request, _key: str) -> Response:
    return await opsgenie.accept_create(request)


async def _alertmanager(request: Request, key: str) -> Response:
    return await alertmanager.receive(request, key, IntegrationKind.ALERTMANAGER)


async def _grafana(request: Request, key: str) -> Response:
    return await alertmanager.receive(request, key, IntegrationKind.GRAFANA)


EXACT: dict[str, Handler] = {"/v2/enqueue": _pagerduty, "/v2/alerts": _opsgenie}
# Paths ending in a URL key (one path segment).
KEYED: dict[str, Handler] = {
    "/api/v1/intake/alertmanager/": _alertmanager,
    "/api/v1/intake/grafana/": _grafana,
    "/api/v1/intake/generic/": generic.accept,
}


def route(path: str) -> tuple[Handler, str] | None:
    handler = EXACT.get(path)
    if handler is not None:
        return handler, ""
    prefix, _, key = path.rpartition("/")
    handler = KEYED.get(prefix + "/")
    if handler is not None and key:
        return handler, key
    return None


class FastLane:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = route(scope["path"]) if scope["type"] == "http" and \
            scope["method"] == "POST" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        handler, key = found
        scope["app"] = self.app  # handlers find the runtime and the intake hub on it
        response = await handler(Request(scope, receive), key)
        await response(scope, receive, send)
