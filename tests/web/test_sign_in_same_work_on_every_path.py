"""Sign-in spends one argon2 verification on every path, so its answer time does not tell
which accounts exist (timings themselves: bench/sign_in.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import CSRF_RE, PASSWORD
from tocsin.accounts import service as accounts
from tocsin.accounts.models import User
from tocsin.accounts.schemas import UserCreate
from tocsin.principal import Role
from tocsin.runtime import Runtime


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes argon2 was asked to verify against, in order."""
    seen: list[str] = []
    real = PasswordHasher.verify

    def spy(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Any:
        seen.append(hash if isinstance(hash, str) else hash.decode())
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    return seen


def _sign_in(client: TestClient, email: str, password: str) -> int:
    token = CSRF_RE.search(client.get("/login").text)
    assert token
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token.group(1)},
                       follow_redirects=False).status_code


def _passwordless(runtime: Runtime) -> str:
    with runtime.sessions() as session, session.begin():
        user = accounts.create_user(session, data=UserCreate(
            name="Sam Sso", email="sso@example.com", role=Role.RESPONDER),
            now=runtime.clock.now())
        assert user.password_hash is None
    return "sso@example.com"


def _disabled(runtime: Runtime, make_account: Callable[..., Account]) -> str:
    account = make_account(Role.RESPONDER)
    with runtime.sessions() as session, session.begin():
        user = session.get(User, account.id)
        assert user is not None
        user.active = False
    return account.user.email


def test_every_sign_in_path_verifies_one_argon2_hash(
        client: TestClient, runtime: Runtime, responder: Account,
        make_account: Callable[..., Account], verifications: list[str]) -> None:
    cases = [("nobody@example.com", PASSWORD, 401),
             (_passwordless(runtime), PASSWORD, 401),
             ("sso@example.com", "", 401),
             (_disabled(runtime, make_account), PASSWORD, 401),
             (responder.user.email, "wrong password", 401),
             (responder.user.email, PASSWORD, 303)]
    for email, password, status in cases:
        verifications.clear()
        assert _sign_in(client, email, password) == status, email
        assert len(verifications) == 1, (email, verifications)
        assert verifications[0].startswith("$argon2"), email
