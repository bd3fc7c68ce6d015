"""`tocsin checklist|role|incident tasks|handoff|bridge|take|webhook` against a real server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_respond_from_the_command_line(runtime: Runtime, admin: Account, responder: Account,
                                       make_account: Callable[..., Account],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bo = make_account(name="Bo")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        cli.json("checklist", "create", "SEV1 basics", "--severity", "sev1",
                 "--item", "assign comms", "--item", "open status page post")
        assert "SEV1 basics" in cli.run("checklist", "list")
        cli.json("role", "create", "scribe", "--description", "Keep the timeline")
        assert "Keep the timeline" in cli.run("role", "list")
        hook = cli.json("webhook", "create", "jira", "https://hooks.example.com/tocsin",
                        "--severity", "sev1", "--event", "incident.resolved")
        assert hook["severities"] == ["SEV1"] and hook["secret"]
        assert "test event queued" in cli.run("webhook", "test", str(hook["id"]))
        assert "test" in cli.run("webhook", "log", str(hook["id"]))
        assert "422" in cli.fails("webhook", "create", "bad", "ftp://example.com/x")
    with cli_for(runtime, responder.token, monkeypatch) as cli:
        number = cli.json("incident", "declare", "Checkout down", "-s", "SEV1")["number"]
        tasks = cli.json("incident", "tasks", number)
        assert tasks["open"] == 2
        first = tasks["items"][0]["id"]
        done = cli.json("incident", "task-done", number, str(first))
        assert done["status"] == "done" and done["done_by_id"] == responder.id
        cli.json("incident", "task-add", number, "check the CDN", "--assignee", "me")
        assert "2 open" in cli.run("incident", "tasks", number)
        assert cli.json("incident", "take", number, "scribe", "me")["description"] == \
            "Keep the timeline"
        assert "no role named 'wizard'" in cli.fails("incident", "take", number, "wizard", "me")
        cli.run("incident", "ack", number)
        out = cli.json("incident", "handoff", number, "commander", bo.user.email,
                       "--note", "failover done")
        assert out["user_id"] == bo.id
        cli.json("incident", "bridge", number, "https://meet.example.com/war-room")
        assert "https://meet.example.com/war-room" in cli.run(
            "incident", "status", number, "investigating")
        assert "422" in cli.fails("incident", "bridge", number, "zoommtg://zoom.us/join")
