"""A new user is invited by email (through the outbox, delivered to a real SMTP server on
loopback): the link sets their password, verifies the invited address, optionally adds a
first contact method and signs them in — once. A second use, or a late one, is refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.notify.paging import drain, worker
from tests.notify.servers import Inbox, body_of
from tests.web.conftest import web_login
from tocsin.accounts.models import User
from tocsin.clock import FrozenClock
from tocsin.notify.models import ContactMethod
from tocsin.runtime import Runtime
from tocsin.settings import Settings

NEW_PASSWORD = "a long new password"


@pytest.fixture
def settings(smtp_settings: Settings) -> Settings:
    return smtp_settings


def _link(runtime: Runtime, inbox: Inbox, address: str) -> str:
    drain(worker(runtime))
    [mail] = inbox.to(address)
    assert "set your password" in mail["Subject"]
    found = re.search(r"http://tocsin\.test(/welcome/\S+)", body_of(mail))
    assert found, body_of(mail)
    return found.group(1)


def test_invited_user_sets_password_once(client: TestClient, runtime: Runtime,
                                         admin: Account, smtp: tuple[Inbox, int]) -> None:
    csrf = web_login(client, admin)
    form = client.get("/users/new").text
    assert 'name="invite" type="checkbox" checked' in form  # invited unless unticked
    r = client.post("/users/new", data={
        "csrf_token": csrf, "name": "Ana", "email": "ana@example.org", "role": "responder",
        "time_zone": "UTC", "active": "on", "invite": "on"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    link = _link(runtime, smtp[0], "ana@example.org")

    newcomer = TestClient(client.app)
    page = newcomer.get(link)
    assert page.status_code == 200 and "Welcome, Ana" in page.text
    r = newcomer.post(link, data={"password": NEW_PASSWORD, "password_again": "other",
                                  "kind": "webhook", "address": "not a url"})
    assert r.status_code == 422 and 'id="password_again-error"' in r.text
    assert 'value="not a url"' in r.text  # a mistake does not use the link up
    r = newcomer.post(link, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
                                  "kind": "email", "address": "ana.phone@example.org"},
                      follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/me#contact"
    me = newcomer.get("/me").text  # signed in by the link
    assert "ana.phone@example.org" in me and "Welcome, Ana" in me
    with runtime.sessions() as s:
        methods = {m.address: m for m in s.scalars(select(ContactMethod))}
        assert methods["ana@example.org"].verified_at is not None  # the link proved it
        assert methods["ana.phone@example.org"].verified_at is None  # its code is on the way

    again = TestClient(client.app).post(link, data={"password": "an attacker's password",
                                                     "password_again": "an attacker's password"})
    assert again.status_code == 400 and "already used" in again.text
    assert TestClient(client.app).get(link).status_code == 400
    signin = TestClient(client.app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', signin.get("/login").text)
    assert token
    r = signin.post("/login", data={"email": "ana@example.org", "password": NEW_PASSWORD,
                                    "csrf_token": token.group(1), "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303  # the password the link set is the one that works


def test_api_invite_and_link_expiry(client: TestClient, runtime: Runtime, clock: FrozenClock,
                                    admin: Account, smtp: tuple[Inbox, int]) -> None:
    r = client.post("/api/v1/users", headers=admin.headers, json={
        "name": "Bo", "email": "bo@example.org"})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/users", headers=admin.headers, json={
        "name": "Cy", "email": "cy@example.org", "invite": True})
    assert r.status_code == 201, r.text
    link = _link(runtime, smtp[0], "cy@example.org")
    assert smtp[0].to("bo@example.org") == []  # the API invites only when asked
    clock.advance(hours=runtime.settings.invite_link_hours + 1)
    r = TestClient(client.app).post(link, data={"password": NEW_PASSWORD,
                                                "password_again": NEW_PASSWORD})
    assert r.status_code == 400 and "expired" in r.text
    with runtime.sessions() as s:
        user = s.scalars(select(User).where(User.email == "cy@example.org")).one()
        assert user.password_hash is None


def test_tampered_link_is_refused(client: TestClient, runtime: Runtime, admin: Account,
                                  smtp: tuple[Inbox, int]) -> None:
    r = client.post("/api/v1/users", headers=admin.headers, json={
        "name": "Di", "email": "di@example.org", "invite": True})
    assert r.status_code == 201
    link = _link(runtime, smtp[0], "di@example.org")
    _user_id, rest = link.removeprefix("/welcome/").split(".", 1)
    forged = f"/welcome/{admin.id}.{rest}"
    assert TestClient(client.app).get(forged).status_code == 400
    assert TestClient(client.app).get("/welcome/garbage").status_code == 400
