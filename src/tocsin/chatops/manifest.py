"""The Slack app manifest for this server (pure): what an admin pastes into Slack's "Create
New App → From an app manifest". docs/slack-app-manifest.yaml is this with the example URL;
`tocsin chat manifest` prints it with the server's own."""

from __future__ import annotations

from typing import Any

from tocsin.chatops.blocks import TIMELINE_SHORTCUT

SCOPES = ["commands", "chat:write", "channels:manage", "channels:read", "channels:history",
          "groups:write", "groups:read", "groups:history", "pins:read", "pins:write",
          "reactions:read", "users:read", "users:read.email"]
EVENTS = ["pin_added", "reaction_added"]


def manifest(base_url: str, *, socket_mode: bool = False) -> dict[str, Any]:
    """The manifest with request URLs under `base_url`; with `socket_mode`, none (Slack
    sends everything over the websocket Tocsin opens)."""
    base = base_url.rstrip("/")
    command: dict[str, Any] = {
        "command": "/incident", "description": "Declare and run incidents",
        "usage_hint": "declare [title] | ack | resolve | severity SEV2 | role ic @person | "
                      "note … | update … | status",
        "should_escape": True}
    events: dict[str, Any] = {"bot_events": EVENTS}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        command["url"] = f"{base}/api/v1/inbound/slack/commands"
        events["request_url"] = f"{base}/api/v1/inbound/slack/events"
        interactivity["request_url"] = f"{base}/api/v1/inbound/slack/interactions"
    return {
        "display_information": {
            "name": "Tocsin", "description": "Declare, coordinate and close incidents from "
                                             "Slack.", "background_color": "#b71c1c"},
        "features": {
            "bot_user": {"display_name": "Tocsin", "always_online": True},
            "slash_commands": [command],
            "shortcuts": [{"name": "Add to incident timeline", "type": "message",
                           "callback_id": TIMELINE_SHORTCUT,
                           "description": "Copies this message to the incident's timeline"}]},
        "oauth_config": {"scopes": {"bot": SCOPES}},
        "settings": {
            "event_subscriptions": events, "interactivity": interactivity,
            "org_deploy_enabled": False, "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False}}
