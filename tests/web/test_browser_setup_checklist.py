"""In Chromium, on a fresh install: the dashboard's setup checklist walked to completion
through the pages it links to (a webhook contact method verified with the code its loopback
receiver got, a test message, a service, an integration, a policy, then "Send a test alert"),
with screenshots for docs/screenshots."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account, drain_intake
from tests.notify.paging import drain, worker
from tests.notify.servers import http_receiver
from tests.web.conftest import DOC_SCREENSHOTS, sign_in

DOCS = DOC_SCREENSHOTS
VIEWPORT = {"width": 1280, "height": 800}


def _step(page: Any, key: str) -> Any:
    return page.locator(f'[data-step="{key}"]')


def _shot(page: Any, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.locator("#setup").scroll_into_view_if_needed()
    page.screenshot(path=str(DOCS / f"{name}.png"))


def test_setup_checklist_walked_to_a_real_page(live_url: str, new_page: Any, admin: Account,
                                               runtime: Any) -> None:
    page = new_page(viewport=VIEWPORT)
    sign_in(page, live_url, admin)
    card = page.locator("#setup")
    expect(card).to_contain_text("0 of 6")
    expect(_step(page, "contact_method")).to_have_attribute("data-done", "no")
    _shot(page, "setup-checklist-start")
    w = worker(runtime)

    with http_receiver() as (got, url):
        _step(page, "contact_method").get_by_role("link").click()
        page.get_by_label("Kind").select_option("webhook")
        page.get_by_label("Address").fill(url + "/hook")
        page.get_by_role("button", name="Add", exact=True).click()
        drain(w)
        code = re.search(r"code is (\d{6})", got[-1].body.decode())
        assert code is not None
        page.get_by_label("Code", exact=True).fill(code.group(1))
        page.get_by_role("button", name="Verify").click()
        page.get_by_role("button", name=re.compile("Send a test to")).click()
        drain(w)

        page.goto(live_url + "/")
        expect(_step(page, "contact_method")).to_have_attribute("data-done", "yes")
        expect(_step(page, "test_message")).to_have_attribute("data-done", "yes")

        _step(page, "service").get_by_role("link").click()
        page.get_by_label("Name").fill("checkout")
        page.get_by_role("button", name="Save").click()

        page.goto(live_url + "/")
        _step(page, "sender").get_by_role("link").click()
        page.locator("#f-name").fill("prometheus")
        page.get_by_label("Format").select_option("alertmanager")
        page.get_by_label("Service").select_option(label="checkout")
        page.get_by_role("button", name="Create integration").click()

        page.goto(live_url + "/")
        _step(page, "who_is_paged").get_by_role("link").click()
        page.locator("#f-name").fill("primary")
        page.locator("#f-target_0_0").select_option(label=admin.user.name)
        page.get_by_role("button", name="Save policy").click()
        page.goto(live_url + "/services")
        page.get_by_role("link", name="checkout").click()
        for sev in ("SEV1", "SEV2", "SEV3", "SEV4"):
            page.locator(f"#f-policy_{sev}").select_option(label="primary")
        page.get_by_role("button", name="Save paging").click()

        page.goto(live_url + "/")
        expect(card).to_contain_text("5 of 6")
        expect(card.locator("pre.example").first).to_contain_text("/api/v1/intake/alertmanager/")
        _step(page, "test_alert").evaluate("el => el.scrollIntoView({block: 'end'})")
        page.screenshot(path=str(DOCS / "setup-checklist-sender.png"))
        before = len(got)
        page.get_by_role("button", name="Send a test alert").click()
        expect(page.get_by_text("Test alert sent through integration prometheus")
               ).to_be_visible()
        assert drain_intake(runtime) >= 1
        drain(w)
        assert any(b"Test alert from Tocsin" in g.body for g in got[before:])

    page.goto(live_url + "/")
    expect(card).to_contain_text("Setup complete")
    expect(_step(page, "test_alert")).to_have_attribute("data-done", "yes")
    _shot(page, "setup-checklist-done")
    page.get_by_role("button", name="Put this checklist away").click()
    expect(page.locator("#setup")).to_have_count(0)
