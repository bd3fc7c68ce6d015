"""In Chromium, through a real OpenID Connect provider (npm oidc-provider): the first
sign-in creates the user in the team and with the role its groups say; signing out ends the
Tocsin session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from tests.sso.conftest import OidcProvider, configure
from tests.sso.conftest import clock as clock
from tests.sso.conftest import start_provider as start_provider
from tocsin.accounts.models import Team, TeamMember, User
from tocsin.audit.models import AuditEntry
from tocsin.runtime import Runtime


def test_browser_sign_in_creates_user_in_team_with_role_and_sign_out_ends_it(
        runtime: Runtime, live_url: str, new_page: Any,
        start_provider: Callable[[list[str]], OidcProvider]) -> None:
    provider = start_provider([live_url + "/sso/callback"])
    configure(runtime, provider.issuer)
    page = new_page()
    page.goto(live_url + "/login")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.locator("input[name=login]").fill("alice")
    page.locator("input[name=password]").fill("whatever")
    page.locator("button[type=submit]").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    with runtime.read_sessions() as s:
        user = s.scalars(select(User).where(User.email == "alice@example.com")).one()
        assert (user.name, user.role) == ("Alice Ops", "responder")
        teams = {name: role for name, role in s.execute(
            select(Team.name, TeamMember.role).join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user.id))}
    assert teams == {"Operations": "manager", "Everyone": "member"}
    with runtime.read_sessions() as s:
        signed = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "sign_in")))
    assert [e.detail for e in signed] == ["signed in with single sign-on"]

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(live_url + "/incidents")
    assert "/login" in page.url


