"""The ASGI application, built from a runtime (`create_app(runtime)`): no globals."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from tocsin import __version__
from tocsin.accounts import service as accounts
from tocsin.accounts.api import router as accounts_router
from tocsin.alerts.api import router as alerts_router
from tocsin.analytics.api import router as analytics_router
from tocsin.api import problems
from tocsin.api.deps import authenticate_early, get_principal
from tocsin.api.fastlane import FastLane
from tocsin.api.guard import EarlyCheck, RequestGuard
from tocsin.api.listener import Listener, with_listener
from tocsin.api.middleware import MetricsMiddleware
from tocsin.api.nul_guard import NulGuard
from tocsin.api.warmup import lifespan as warm_routes_at_startup
from tocsin.audit.api import router as audit_router
from tocsin.catalog.api import router as catalog_router
from tocsin.chatops.api import inbound_router as chat_inbound_router
from tocsin.chatops.api import router as chatops_router
from tocsin.chatops.fastlane import fast_routes as chat_fast_routes
from tocsin.checks.api import agent_router as probe_agent_router
from tocsin.checks.api import probe_dependency, probe_early, probes_router
from tocsin.checks.api import router as checks_router
from tocsin.drills.api import router as drills_router
from tocsin.escalation import reachability
from tocsin.escalation.api import router as escalation_router
from tocsin.heartbeats.api import ping_router
from tocsin.heartbeats.api import router as heartbeats_router
from tocsin.heartbeats.fastlane import fast_routes as ping_fast_routes
from tocsin.incidents.api import router as incidents_router
from tocsin.intake.api import INTAKE_PATHS
from tocsin.intake.api import router as intake_router
from tocsin.intake.fastlane import fast_routes as intake_fast_routes
from tocsin.knownerrors.api import router as knownerrors_router
from tocsin.notify import service as notify
from tocsin.notify.api import router as notify_router
from tocsin.notify.views import router as ack_router
from tocsin.postmortems.api import router as postmortems_router
from tocsin.respond.api import router as respond_router
from tocsin.respond.phone import router as phone_router
from tocsin.runbooks.api import router as runbooks_router
from tocsin.runtime import Runtime
from tocsin.schedules.api import router as schedules_router
from tocsin.security.api import router as security_router
from tocsin.setup.api import router as setup_router
from tocsin.stakeholders.api import router as stakeholders_router
from tocsin.statuspages import service as statuspages
from tocsin.statuspages.api import public_router as statuspages_public_router
from tocsin.statuspages.api import router as statuspages_router
from tocsin.statuspages.fastlane import PublicFiles, StatusDoor
from tocsin.statuspages.fastlane import fast_routes as statuspage_fast_routes
from tocsin.system import router as system_router
from tocsin.web.app import install as install_web
from tocsin.webhooks.api import router as webhooks_router

# One explicit list of feature routers.
ROUTERS = [system_router, accounts_router, catalog_router, incidents_router]
ROUTERS += [alerts_router, intake_router]
ROUTERS += [schedules_router, escalation_router, notify_router, ack_router]
ROUTERS += [checks_router, probes_router, probe_agent_router, heartbeats_router, ping_router]
ROUTERS.append(setup_router)
ROUTERS.append(respond_router)
ROUTERS.append(webhooks_router)
ROUTERS.append(phone_router)
ROUTERS.append(analytics_router)
ROUTERS.append(postmortems_router)
ROUTERS.append(knownerrors_router)
ROUTERS.append(drills_router)
ROUTERS.append(runbooks_router)
ROUTERS.append(statuspages_router)
ROUTERS.append(statuspages_public_router)
ROUTERS.append(stakeholders_router)
ROUTERS.append(chatops_router)
ROUTERS.append(audit_router)
ROUTERS.append(security_router)
ROUTERS.append(chat_inbound_router)

# Routes authenticated by these dependencies authenticate before their body is read.
AUTH_FIRST: dict[Callable[..., Any], EarlyCheck] = {get_principal: authenticate_early,
                                                   probe_dependency: probe_early}
# Paths that cap (or cut off) their bodies themselves, in their senders' shapes.
OWN_BODY_CAPS = (*INTAKE_PATHS, "/ping/")


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Tocsin",
        version=__version__,
        description="Incident management API. Authenticate with `Authorization: Bearer <key>`.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=warm_routes_at_startup,  # api/warmup.py: no slow first request
    )
    app.state.runtime = runtime
    app.state.principal_resolvers = []
    # What lower features' routes need from higher ones (each declares a Protocol).
    app.state.api_keys = accounts                                             # api/deps.py
    app.state.invite = notify.invite                                          # accounts/api.py
    app.state.service_paging_problems = reachability.problems_of_services    # catalog/api.py
    app.state.schedule_paging_problems = reachability.problems_of_schedules  # schedules/api.py
    app.state.chatops_status_pages = statuspages.FOR_CHAT  # chatops/ports.py
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    install_web(app, runtime)  # pages, static files, cookie sign-in
    # Inside the request guard (credentials first, body capped), before any handler:
    # PostgreSQL cannot hold NUL.
    app.add_middleware(NulGuard)
    app.add_middleware(RequestGuard, runtime=runtime, checks=AUTH_FIRST, own_caps=OWN_BODY_CAPS)
    app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)
    return app


def create_served_app(runtime: Runtime, *, shared_port: bool = False) -> ASGIApp:
    """The app as `tocsin serve` and `tocsin api` serve it: the hottest paths answered by
    the features' fast routes in front of FastAPI (api/fastlane.py), pings first; with
    `statuspage_port` set, the status listener too (api/listener.py), started and stopped
    with the app's lifespan and answering from the same copy of the public files.
    `shared_port`: other processes listen on that port too (`tocsin api --workers N`)."""
    app = create_app(runtime)
    app.state.freeze_after_startup = True  # api/warmup.py
    files = PublicFiles(runtime)
    inner: ASGIApp = app
    settings = runtime.settings
    if settings.statuspage_port is not None:
        inner = with_listener(app, Listener(
            StatusDoor(files), host=settings.host, port=settings.statuspage_port,
            reuse_port=shared_port, ssl_context=tls_context(runtime)))
    return FastLane(inner, [*ping_fast_routes(app.state, runtime), *intake_fast_routes(app),
                            *statuspage_fast_routes(files), *chat_fast_routes(app)])


def tls_context(runtime: Runtime) -> ssl.SSLContext | None:
    """The main port's certificate for the status listener, when Tocsin serves HTTPS itself."""
    settings = runtime.settings
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    return context
