"""Sign-in, sessions and CSRF over real HTTP semantics (in-process client, no browser)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import CSRF_RE, PASSWORD, web_login
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.web.auth import COOKIE


def _count_incidents(client: TestClient, account: Account) -> int:
    items = client.get("/api/v1/incidents?status=triggered", headers=account.headers).json()
    return len(items["items"])


def test_wrong_password_and_forged_sign_in_are_refused(client: TestClient,
                                                      responder: Account) -> None:
    page = client.get("/login")
    token = CSRF_RE.search(page.text)
    assert token
    r = client.post("/login", data={"email": responder.user.email, "password": "nope nope",
                                    "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 401 and "Email or password is not right" in r.text
    assert COOKIE not in r.cookies
    # A sign-in posted from another site carries no matching token cookie.
    client.cookies.clear()
    r = client.post("/login", data={"email": responder.user.email, "password": PASSWORD,
                                    "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and COOKIE not in r.cookies


def test_next_only_goes_to_this_site(client: TestClient, responder: Account) -> None:
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example", "/"),
                             ("/incidents?status=all", "/incidents?status=all")):
        client.cookies.clear()
        token = CSRF_RE.search(client.get("/login").text)
        assert token
        r = client.post("/login", data={"email": responder.user.email, "password": PASSWORD,
                                        "csrf_token": token.group(1), "next": target},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == expected


def test_form_without_csrf_token_changes_nothing(client: TestClient, responder: Account) -> None:
    csrf = web_login(client, responder)
    before = _count_incidents(client, responder)
    r = client.post("/incidents/new", data={"title": "Forged", "severity": "SEV1"})
    assert r.status_code == 403 and "did not come from Tocsin" in r.text
    r = client.post("/incidents/new", data={"title": "Forged", "severity": "SEV1",
                                            "csrf_token": csrf + "x"})
    assert r.status_code == 403
    assert _count_incidents(client, responder) == before
    r = client.post("/incidents/new", data={"title": "Real", "severity": "SEV1",
                                            "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert _count_incidents(client, responder) == before + 1


def test_cookie_works_for_the_api_but_writes_need_the_csrf_header(
        client: TestClient, responder: Account) -> None:
    csrf = web_login(client, responder)
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["id"] == responder.id
    r = client.post("/api/v1/incidents", json={"title": "From a hostile page"})
    assert r.status_code == 401
    r = client.post("/api/v1/incidents", json={"title": "From our page"},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["reporter_id"] == responder.id


def test_roles_apply_to_cookie_api_calls(client: TestClient, viewer: Account) -> None:
    csrf = web_login(client, viewer)
    r = client.post("/api/v1/incidents", json={"title": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403


def test_sign_out_ends_the_session_for_a_copied_cookie(client: TestClient,
                                                       responder: Account) -> None:
    csrf = web_login(client, responder)
    stolen = client.cookies.get(COOKIE)
    assert stolen
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.set(COOKIE, stolen)
    r = client.get("/incidents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/incidents"
    assert client.get("/api/v1/me").status_code == 401


def test_idle_session_expires_and_activity_extends_it(client: TestClient, clock: FrozenClock,
                                                      responder: Account) -> None:
    web_login(client, responder)
    for _ in range(3):
        clock.advance(timedelta(hours=8))  # each visit slides the 12 h idle window
        assert client.get("/", follow_redirects=False).status_code == 200
    clock.advance(timedelta(hours=12, minutes=1))
    r = client.get("/incidents?status=all", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/incidents%3Fstatus%3Dall"


def test_password_change_by_admin_ends_that_users_sessions(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account) -> None:
    other = TestClient(client.app)
    web_login(other, responder)
    assert other.get("/", follow_redirects=False).status_code == 200
    csrf = web_login(client, admin)
    r = client.post(f"/users/{responder.id}", data={
        "csrf_token": csrf, "name": responder.user.name, "role": "responder",
        "time_zone": "UTC", "active": "on", "password": "a new long password"},
        follow_redirects=False)
    assert r.status_code == 303
    assert other.get("/", follow_redirects=False).status_code == 303


def test_deactivated_user_cannot_sign_in(client: TestClient, admin: Account,
                                         responder: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post(f"/users/{responder.id}", data={
        "csrf_token": csrf, "name": responder.user.name, "role": "responder",
        "time_zone": "UTC"}, follow_redirects=False)
    assert r.status_code == 303
    fresh: Any = TestClient(client.app)
    token = CSRF_RE.search(fresh.get("/login").text)
    assert token
    r = fresh.post("/login", data={"email": responder.user.email, "password": PASSWORD,
                                   "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 401


def test_password_guessing_is_slowed(client: TestClient, clock: FrozenClock,
                                     responder: Account) -> None:
    def attempt(password: str) -> int:
        token = CSRF_RE.search(client.get("/login").text)
        assert token
        return client.post("/login", data={"email": responder.user.email,
                                           "password": password,
                                           "csrf_token": token.group(1)},
                           follow_redirects=False).status_code

    assert [attempt(f"guess {i}") for i in range(10)] == [401] * 10
    assert attempt(PASSWORD) == 429  # even the right password waits: no oracle
    clock.advance(timedelta(minutes=16))
    assert attempt(PASSWORD) == 303
