"""`tocsin chat …` against a live server (the served app: Slack's URLs on the fast lane),
as an admin would from a shell: the outbox per method, alert channels, linked people, a test
message through the outbox, the Slack app manifest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.chatops.conftest import drain
from tests.chatops.slack_standin import Slack
from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_status_shows_the_outbox_per_method_until_it_drains(
        runtime: Runtime, clock: FrozenClock, admin: Account, slack: Slack,
        make_incident: Callable[..., dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_incident(title="Checkout down", severity="SEV1")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        status = cli.json("chat", "status")
        assert status["slack_configured"] is True
        assert status["pending_by_method"]["conversations.create"] == 1
        assert status["calls_pending"] == sum(status["pending_by_method"].values()) >= 5
        assert status["last_sent_at"] is None
        shown = cli.run("chat", "status")
        assert "waiting per method" in shown and "conversations.create" in shown
        drain(runtime, clock)
        status = cli.json("chat", "status")
        assert status["pending_by_method"] == {} and status["calls_pending"] == 0
        assert status["last_sent_at"] is not None and status["calls_failed"] == 0


def test_alert_channels_and_people_are_managed_from_the_shell(
        runtime: Runtime, clock: FrozenClock, admin: Account, responder: Account,
        client: TestClient, slack: Slack, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = client.post("/api/v1/services", json={"name": "checkout"}, headers=admin.headers)
    assert svc.status_code == 201, svc.text
    alerts = slack.add_channel("checkout-alerts")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        added = cli.json("chat", "channels", "add", alerts, "--service", "checkout")
        assert added["service_id"] == svc.json()["id"] and added["channel_id"] == alerts
        assert [m["channel_id"] for m in cli.json("chat", "channels", "list")] == [alerts]
        assert "exactly one of --service and --team" in cli.fails(
            "chat", "channels", "add", alerts)
        assert "no service 'nope'" in cli.fails("chat", "channels", "add", alerts,
                                                "--service", "nope")
        assert f"removed alert channel {added['id']}" in cli.run(
            "chat", "channels", "remove", str(added["id"]))
        assert cli.json("chat", "channels", "list") == []

        linked = cli.json("chat", "users", "link", "U0RUI", responder.user.email)
        assert linked["user_id"] == responder.id and linked["via"] == "admin"
        assert "U0RUI" in cli.run("chat", "users", "list")
        cli.run("chat", "users", "unlink", str(linked["id"]))
        assert cli.json("chat", "users", "list") == []


def test_test_message_goes_through_the_outbox_and_the_manifest_names_this_server(
        runtime: Runtime, clock: FrozenClock, admin: Account, slack: Slack,
        monkeypatch: pytest.MonkeyPatch) -> None:
    general = slack.add_channel("general")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        queued = cli.json("chat", "test", general, "--text", "hello from the shell")
        assert queued["call_id"] > 0
        assert "channel_id" in cli.fails("chat", "test", "not-a-channel")
        drain(runtime, clock)
        assert [m["text"] for m in slack.channels[general].messages] == ["hello from the shell"]

        # An app token is set: Socket Mode, so Slack is given no request URL to call.
        manifest = yaml.safe_load(cli.run("chat", "manifest"))
        assert manifest["settings"]["socket_mode_enabled"] is True
        assert "url" not in manifest["features"]["slash_commands"][0]
        assert "request_url" not in manifest["settings"]["interactivity"]
        assert cli.json("chat", "manifest") == manifest
