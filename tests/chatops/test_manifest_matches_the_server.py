"""The Slack app manifest names the routes, callback ids and events the server handles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tocsin.app import ROUTERS
from tocsin.chatops import blocks
from tocsin.chatops.manifest import manifest

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-app-manifest.yaml"


def test_manifest_points_at_real_routes_and_ids() -> None:
    manifest: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    paths = {str(getattr(route, "path", "")) for router in ROUTERS for route in router.routes}
    urls = [manifest["features"]["slash_commands"][0]["url"],
            manifest["settings"]["event_subscriptions"]["request_url"],
            manifest["settings"]["interactivity"]["request_url"]]
    for url in urls:
        assert url.replace("https://tocsin.example.com", "") in paths
    assert manifest["features"]["slash_commands"][0]["command"] == "/incident"
    assert manifest["features"]["shortcuts"][0]["callback_id"] == blocks.TIMELINE_SHORTCUT
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "pin_added", "reaction_added"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:manage", "groups:write", "pins:write",
            "users:read.email", "channels:history"} <= scopes


def test_the_documented_manifest_is_the_one_the_server_prints() -> None:
    """docs/slack-app-manifest.yaml is `tocsin chat manifest` for https://tocsin.example.com."""
    documented = yaml.safe_load(MANIFEST.read_text())
    assert documented == manifest("https://tocsin.example.com", socket_mode=False)
    by_socket = manifest("https://tocsin.example.com", socket_mode=True)
    assert by_socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in by_socket["features"]["slash_commands"][0]
