"""`tocsin incident status|severity|role|close` (and declare by service name) against a real
server, people named by email."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_responder_moves_an_incident_from_declared_to_closed(
        runtime: Runtime, admin: Account, responder: Account,
        make_account: Callable[..., Account], monkeypatch: pytest.MonkeyPatch) -> None:
    alice = make_account(name="Alice")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        service = cli.json("service", "create", "checkout")
    with cli_for(runtime, responder.token, monkeypatch) as cli:
        declared = cli.json("incident", "declare", "Checkout returns 500", "-s", "SEV3",
                            "--service", "checkout")
        assert declared["service_ids"] == [service["id"]]
        number = declared["number"]

        moved = cli.json("incident", "status", number, "investigating", "--note", "looking")
        assert moved["status"] == "investigating"
        refused = cli.fails("incident", "status", number, "triggered")
        assert "409" in refused and "it can move to" in refused

        raised = cli.json("incident", "severity", number, "sev1", "--reason", "all regions")
        assert raised["severity"] == "SEV1"
        assert cli.invoke("incident", "severity", number, "SEV2").exit_code == 2  # no --reason

        assert cli.json("incident", "role", number, "commander",
                        alice.user.email)["commander_id"] == alice.id
        assert cli.json("incident", "role", number, "tech-lead", "me")["tech_lead_id"] \
            == responder.id
        shown = cli.run("incident", "role", number, "tech_lead", "none")
        assert "tech_lead_id" in shown
        assert cli.json("incident", "show", number)["tech_lead_id"] is None
        assert "no user with email nobody@example.com" in cli.fails(
            "incident", "role", number, "comms_lead", "nobody@example.com")

        cli.run("incident", "resolve", number, "--summary", "rolled back")
        refused = cli.fails("incident", "close", number)
        assert "users_affected" in refused and "recovery watch" in refused
        assert "--impact-started-at" in refused  # and which options supply them
        closed = cli.json("incident", "close", number, "--users-affected", "120",
                          "--impact-started-at", "2026-01-05T11:30:00Z",
                          "--impact-ended-at", "2026-01-05T11:55:00Z",
                          "--skip-recovery-watch", "--reason", "verified by hand")
        assert closed["status"] == "closed" and closed["users_affected"] == 120
        kinds = [e["kind"] for e in cli.json("incident", "show", number)["timeline"]]
        assert "severity_changed" in kinds and "closed" in kinds
