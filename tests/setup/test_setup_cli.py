"""`tocsin setup` prints the checklist with ✓/✗ and the next command for each missing step;
`tocsin service show` names who cannot be paged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_setup_in_the_terminal(runtime: Runtime, admin: Account,
                               make_account: Callable[..., Account],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    ana = make_account(name="Ana Lima")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        text = cli.run("setup")
        assert "✗ Add a contact method and verify it" in text
        assert "next: tocsin user contact-method add email you@example.com" in text
        assert "0 of 6 steps done." in text

        cli.run("escalation", "create", "primary", "--level", ana.user.email)
        cli.run("service", "create", "checkout", "-p", "primary")
        cli.run("integration", "create", "--service", "checkout", "--kind", "alertmanager",
                "--name", "prometheus")
        text = cli.run("setup")
        assert "✓ Create a service: service checkout" in text
        assert "✓ Connect a sender" in text
        assert "next: tocsin integration test prometheus" in text
        assert "webhook_configs" in text  # the sender's snippet, to paste
        state = cli.json("setup")
        assert state["next_step"] == "contact_method"
        assert {s["key"]: s["done"] for s in state["steps"]}["who_is_paged"] is False

        shown = cli.run("service", "show", "checkout")
        assert "PROBLEM     policy primary: level 1: Ana Lima has no verified contact " \
               "method" in shown
        assert cli.json("service", "show", "checkout")["paging_problems"]
