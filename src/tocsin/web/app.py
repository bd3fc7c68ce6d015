"""Mounting the web app into the one ASGI application."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from tocsin.runtime import Runtime
from tocsin.web import sessions_api
from tocsin.web.auth import resolve_cookie
from tocsin.web.render import HERE, Pages
from tocsin.web.throttle import SignInThrottle
from tocsin.web.views import (
    audit,
    chatops,
    check_page,
    checks,
    contact,
    dashboard,
    escalation,
    heartbeats,
    incident_page,
    incidents,
    integrations,
    learning,
    metrics,
    people,
    probes,
    profile,
    respond,
    routing,
    schedules,
    services,
    session,
    setup,
    sso,
    stakeholders,
    statuspages,
    suppression,
    user_contact,
    welcome,
)

# One explicit list of page routers; order matters only where paths overlap
# (/incidents/new before /incidents/{id}; /checks/new, /checks/import before /checks/{id}).
ROUTERS = [session.router, dashboard.router, incidents.router, incident_page.router,
           services.router, people.router, profile.router, schedules.router,
           integrations.router, contact.router, routing.router,
           suppression.router, escalation.router, checks.router, check_page.router,
           heartbeats.router, probes.router, user_contact.router,
           welcome.router, setup.router]
ROUTERS.append(metrics.router)
ROUTERS.append(learning.router)
ROUTERS.append(statuspages.router)
ROUTERS.append(stakeholders.router)
ROUTERS.append(sso.router)
ROUTERS.append(respond.router)
ROUTERS.append(audit.router)
ROUTERS.append(chatops.router)


def _favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


def install(app: FastAPI, runtime: Runtime) -> None:
    """Pages, static files, and cookie sign-in as a way to authenticate API calls too."""
    app.state.web_pages = Pages(runtime)
    app.state.web_throttle = SignInThrottle()
    app.state.principal_resolvers.append(resolve_cookie)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Browsers, feed readers and bookmarks ask for /favicon.ico whatever the page links.
    app.add_api_route("/favicon.ico", _favicon, include_in_schema=False)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(sessions_api.router)  # JSON, under /api/v1 (list and end sessions)
