"""The intake endpoints as fast routes (api/fastlane.py): answered in front of the FastAPI
app, with the very same handlers the FastAPI routes call (so answers are identical, and the
routes stay in the OpenAPI document).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from tocsin.alerts.models import IntegrationKind
from tocsin.api.fastlane import FastRoute, request_route
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


def fast_routes(app: ASGIApp) -> list[FastRoute]:
    """The intake posts, answered in front of `app` (the FastAPI app, whose state the handlers
    find the runtime and the intake hub on)."""
    return [request_route(path, ["POST"], app, handler)
            for path, handler in (*EXACT.items(), *KEYED.items())]
