"""Slack's request URLs as fast routes (api/fastlane.py): a slash command, a button press or
an event answered in front of the FastAPI app by the very handlers its routes call, so the
answer Slack waits for (3 s at most) pays for no routing, dependency injection or middleware.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from tocsin.api.fastlane import FastRoute, request_route
from tocsin.chatops.api import (
    accept_slack_command,
    accept_slack_event,
    accept_slack_interaction,
)

PATHS = {"/api/v1/inbound/slack/commands": accept_slack_command,
         "/api/v1/inbound/slack/interactions": accept_slack_interaction,
         "/api/v1/inbound/slack/events": accept_slack_event}


def fast_routes(app: ASGIApp) -> list[FastRoute]:
    """Slack's request URLs, answered in front of `app` (whose state holds the runtime and
    the status-page port)."""
    return [request_route(path, ["POST"], app, handler) for path, handler in PATHS.items()]
