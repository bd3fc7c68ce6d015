"""Two-factor sign-in (TOTP) for local accounts: required for admins when configured; a
replayed code and a guessing run are refused with an audit entry each."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PASSWORD, Account
from tests.web.conftest import CSRF_RE
from tocsin.audit.models import AuditEntry
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def _password_step(client: TestClient, who: Account) -> None:
    page = client.get("/login")
    token = CSRF_RE.search(page.text)
    assert token
    r = client.post("/login", data={"email": who.user.email, "password": PASSWORD,
                                    "csrf_token": token.group(1), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] in ("/", "/login/code")


def _failures(runtime: Runtime) -> list[str]:
    with runtime.read_sessions() as s:
        return [e.detail for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "sign_in_failed").order_by(AuditEntry.id))]


def _enrol(client: TestClient, clock: FrozenClock) -> str:
    """Turn two-factor on from the profile page; returns the secret."""
    page = client.get("/profile/two-factor")
    csrf = CSRF_RE.search(page.text)
    assert csrf
    r = client.post("/profile/two-factor", data={"csrf_token": csrf.group(1),
                                                 "action": "start"})
    uri = re.search(r'id="totp-uri">([^<]+)<', r.text)
    assert uri, r.text
    secret = pyotp.parse_uri(uri.group(1).replace("&amp;", "&")).secret
    r = client.post("/profile/two-factor", data={
        "csrf_token": csrf.group(1), "action": "confirm",
        "code": pyotp.TOTP(secret).at(clock.now())})
    assert r.status_code == 200 and "recovery-codes" in r.text, r.text
    return str(secret)


def test_admin_must_enrol_then_signs_in_with_a_code_once(
        runtime: Runtime, client: TestClient, admin: Account, clock: FrozenClock) -> None:
    runtime.settings.totp_required_for_admins = True
    _password_step(client, admin)
    r = client.get("/incidents", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/profile/two-factor")
    secret = _enrol(client, clock)
    assert client.get("/incidents", follow_redirects=False).status_code == 200

    client.cookies.clear()
    clock.advance(timedelta(seconds=30))
    _password_step(client, admin)
    assert client.get("/incidents", follow_redirects=False).status_code == 303  # not yet in
    code = pyotp.TOTP(secret).at(clock.now())
    r = client.post("/login/code", data={"code": code}, follow_redirects=False)
    assert r.status_code == 303 and "tocsin_session" in r.headers["set-cookie"]
    assert client.get("/incidents", follow_redirects=False).status_code == 200

    # The same code again, from another browser: a replay, refused.
    other = TestClient(client.app)
    _password_step(other, admin)
    r = other.post("/login/code", data={"code": code}, follow_redirects=False)
    assert r.status_code == 401 and "already used" in r.text
    assert "second factor: this code was already used" in _failures(runtime)[-1]
    assert other.get("/incidents", follow_redirects=False).status_code == 303


def test_guessing_codes_locks_two_factor(runtime: Runtime, client: TestClient,
                                         responder: Account, clock: FrozenClock) -> None:
    _password_step(client, responder)
    secret = _enrol(client, clock)
    client.cookies.clear()
    clock.advance(timedelta(minutes=1))
    _password_step(client, responder)
    for guess in range(runtime.settings.totp_max_failures):
        r = client.post("/login/code", data={"code": f"{guess:06d}"}, follow_redirects=False)
        assert r.status_code == 401
    # Now even the right code is refused until the lockout ends.
    r = client.post("/login/code", data={"code": pyotp.TOTP(secret).at(clock.now())},
                    follow_redirects=False)
    assert r.status_code == 401 and "locked" in r.text
    assert len(_failures(runtime)) == runtime.settings.totp_max_failures + 1
    clock.advance(timedelta(minutes=runtime.settings.totp_lockout_minutes, seconds=1))
    _password_step(client, responder)
    r = client.post("/login/code", data={"code": pyotp.TOTP(secret).at(clock.now())},
                    follow_redirects=False)
    assert r.status_code == 303
