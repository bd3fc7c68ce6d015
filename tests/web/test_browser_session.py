"""In Chromium: an expired session goes through sign-in and back to the page asked for;
signing out ends the session; the keyboard reaches everything; the theme toggle works."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import PASSWORD, screenshot, sign_in
from tocsin.clock import FrozenClock


def test_expired_session_signs_in_and_returns_to_the_page(
        live_url: str, new_page: Any, responder: Account, clock: FrozenClock,
        make_incident: Any) -> None:
    inc = make_incident(title="Queue backlog", severity="SEV3")
    page = new_page()
    sign_in(page, live_url, responder)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    clock.advance(timedelta(hours=13))  # past the 12 h idle default
    page.goto(f"{live_url}/incidents/{inc['id']}")
    assert "/login" in page.url
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(responder.user.email)
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Email or password is not right")
    expect(page.get_by_label("Email")).to_have_value(responder.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith(f"/incidents/{inc['id']}")
    expect(page.locator(".incident-head h1")).to_have_text("Queue backlog")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(f"{live_url}/incidents")
    assert "/login?next=/incidents" in page.url


def test_keyboard_and_theme(live_url: str, new_page: Any, responder: Account,
                            make_incident: Any) -> None:
    make_incident(title="Checkout returning 500", severity="SEV1")
    make_incident(title="Search latency high", severity="SEV3")
    page = new_page(color_scheme="dark")
    sign_in(page, live_url, responder)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Dark by the system preference; the toggle cycles auto -> light -> dark, kept on reload.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 19, 24)", background
    screenshot(page, "dashboard-dark-desktop")
    toggle = page.get_by_role("button", name="Theme: auto")
    toggle.click()
    expect(page.get_by_role("button", name="Theme: light")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    # The declare form is usable from the keyboard alone: focus moves field to field.
    page.goto(f"{live_url}/incidents/new")
    page.get_by_label("What is happening?").focus()
    page.keyboard.type("Login page blank")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "severity"
