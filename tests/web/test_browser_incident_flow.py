"""In Chromium: sign in, declare a SEV2, acknowledge, record a decision, resolve, close —
the page showing each step and, before closing, what the record still lacks."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import DESKTOP, PHONE, screenshot, sign_in
from tocsin.clock import FrozenClock


def test_declare_acknowledge_decide_resolve_close(live_url: str, new_page: Any,
                                                  responder: Account, clock: FrozenClock,
                                                  client: Any, admin: Account) -> None:
    client.post("/api/v1/services", json={"name": "payments", "tier": "critical",
                                          "revenue": True}, headers=admin.headers)
    page = new_page()
    sign_in(page, live_url, responder)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="Declare incident").click()
    # Severity guidance sits beside the choice.
    expect(page.get_by_text("Significant degradation")).to_be_visible()
    page.get_by_role("button", name="Declare").click()
    # Nothing typed: field-level messages, nothing stored.
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.locator("#severity-error")).to_be_visible()
    page.set_viewport_size(PHONE)
    screenshot(page, "declare-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    page.get_by_label("What is happening?").fill("Card payments failing")
    page.get_by_role("radio", name=re.compile("^SEV2")).check()
    page.get_by_role("checkbox", name="payments").check()
    page.get_by_role("button", name="Declare").click()

    expect(page.locator(".incident-head h1")).to_have_text("Card payments failing")
    expect(page.locator(".incident-head .sev")).to_have_text("SEV2")
    expect(page.locator(".incident-head .status")).to_have_text("triggered")
    expect(page.locator(".incident-head")).to_contain_text("payments")
    number = page.locator(".incident-number").inner_text().split()[0]
    assert number.startswith("INC-")
    incident_url = page.url

    clock.advance(minutes=2)
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".incident-head .status")).to_have_text("acknowledged")
    expect(page.locator(".incident-head")).to_contain_text(responder.user.name)

    page.get_by_label("Kind").select_option("decision")
    page.get_by_label("Text").fill("Roll back payments-api to 1.41")
    page.get_by_role("button", name="Add", exact=True).click()
    # A decision without a reason is refused, and what was typed is kept.
    expect(page.get_by_text("a decision needs the reason it was taken")).to_be_visible()
    expect(page.get_by_label("Text")).to_have_value("Roll back payments-api to 1.41")
    page.get_by_label("Reason (needed for a decision)").fill("1.42 broke card payments")
    page.get_by_role("button", name="Add", exact=True).click()
    decision = page.locator(".timeline .ev-decision")
    expect(decision).to_contain_text("Roll back payments-api to 1.41")
    expect(decision).to_contain_text("Reason: 1.42 broke card payments")

    # Mid-response, the page a responder works from: desktop and phone.
    screenshot(page, "incident-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, "incident-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the incident page scrolls sideways at 375 px ({width})"
    page.set_viewport_size(DESKTOP)

    clock.advance(minutes=10)
    page.get_by_label("What fixed it").fill("Rolled back to 1.41")
    page.get_by_label("Users affected").fill("1200")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".incident-head .status")).to_have_text("resolved")
    # The recovery watch is still running: the page says what the record still lacks.
    expect(page.locator(".warn-card")).to_contain_text("recovery watch runs until")
    page.get_by_role("button", name="Close incident").click()
    expect(page.get_by_text("the record still lacks")).to_be_visible()
    expect(page.locator(".incident-head .status")).to_have_text("resolved")

    clock.advance(timedelta(minutes=61))
    page.goto(incident_url)
    expect(page.locator(".warn-card")).to_have_count(0)
    page.get_by_role("button", name="Close incident").click()
    expect(page.locator(".incident-head .status")).to_have_text("closed")
    kinds = [k.lower() for k in page.locator(".timeline .ev-kind").all_inner_texts()]
    for kind in ("created", "status changed", "decision", "resolved", "closed"):
        assert kind in kinds, (kind, kinds)

    screenshot(page, "incident-closed-desktop")
