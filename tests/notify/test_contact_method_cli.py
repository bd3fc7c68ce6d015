"""`tocsin user contact-method add|list|verify|test|remove` against a real server: your own
methods, another user's as an admin, and a responder kept to their own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.notify.models import ContactMethod, Message
from tocsin.runtime import Runtime


def code_of(runtime: Runtime, method_id: int) -> str:
    with runtime.sessions() as session:
        code = session.get(ContactMethod, method_id).verify_code  # type: ignore[union-attr]
    assert code is not None
    return code


def kinds_sent_to(runtime: Runtime, method_id: int) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Message.kind).where(
            Message.contact_method_id == method_id).order_by(Message.id)))


def test_contact_methods_added_verified_tested_and_removed(
        runtime: Runtime, admin: Account, make_account: Callable[..., Account],
        monkeypatch: pytest.MonkeyPatch) -> None:
    bob = make_account(name="Bob")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        added = cli.run("user", "contact-method", "add", "email", "ada@example.com",
                        "--label", "work")
        assert "tocsin user contact-method verify 1 CODE" in added
        mine = cli.json("user", "contact-method", "list")
        assert [(m["kind"], m["address"], m["verified"]) for m in mine] == [
            ("email", "ada@example.com", False)]
        assert "wrong verification code" in cli.fails("user", "contact-method", "verify",
                                                      "1", "000000x")
        verified = cli.json("user", "contact-method", "verify", "work", code_of(runtime, 1))
        assert verified["verified"] is True
        assert cli.json("user", "contact-method", "test", "ada@example.com")["test"] == "queued"
        assert kinds_sent_to(runtime, 1) == ["verify", "test"]

        # An admin manages someone else's, named by email.
        theirs = cli.json("user", "contact-method", "add", "webhook",
                          "https://hooks.example.com/bob", "--user", bob.user.email)
        assert theirs["user_id"] == bob.id
        cli.run("user", "contact-method", "verify", "https://hooks.example.com/bob",
                code_of(runtime, theirs["id"]), "--user", bob.user.email)
        listed = cli.run("user", "contact-method", "list", "-u", bob.user.email)
        assert listed.splitlines()[0].split()[:3] == ["ID", "KIND", "ADDRESS"]
        assert "hooks.example.com/bob" in listed and "True" in listed

        assert "kind: Input should be 'email'" in cli.fails("user", "contact-method", "add", "bad-kind", "x")
        assert "no single contact method '99'" in cli.fails("user", "contact-method", "test",
                                                            "99")
        removed = cli.json("user", "contact-method", "remove", "1")
        assert removed == {"id": 1, "removed": True}
        assert cli.json("user", "contact-method", "list") == []

    with cli_for(runtime, bob.token, monkeypatch) as cli:
        assert [m["id"] for m in cli.json("user", "contact-method", "list")] == [theirs["id"]]
        assert "403" in cli.fails("user", "contact-method", "add", "email", "x@example.com",
                                  "--user", admin.user.email)
        assert "removed webhook" in cli.run("user", "contact-method", "remove",
                                            str(theirs["id"]))
