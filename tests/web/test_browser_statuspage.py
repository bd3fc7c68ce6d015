"""In Chromium: an admin builds a status page in the editor (component, post previewed then
published); the public page shows the component's outage, works without JavaScript (the
subscribe form), follows the reader's dark preference, and its keyboard order starts with
a skip link."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.statuspages.helpers import run_refresh
from tests.web.conftest import screenshot, sign_in
from tocsin.runtime import Runtime


def test_editor_then_public_page(live_url: str, new_page: Any, admin: Account,
                                 runtime: Runtime, client: Any,
                                 make_incident: Any) -> None:
    r = client.post("/api/v1/services", json={"name": "checkout"}, headers=admin.headers)
    sid = r.json()["id"]
    page = new_page()
    sign_in(page, live_url, admin, path="/statuspages")
    page.get_by_role("link", name="Status pages").click()
    page.get_by_label("Name").fill("Acme")
    page.get_by_label("Address (lower case, in /status/…/)").fill("acme")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Acme status page")).to_be_visible()

    page.get_by_label("Component name").fill("Checkout")
    page.get_by_label("Group").fill("Shop")
    page.get_by_role("checkbox", name="checkout").check()
    page.get_by_role("button", name="Add component").click()
    expect(page.locator("#components-h + table")).to_contain_text("Operational")

    make_incident(severity="SEV2", service_ids=[sid], title="internal: pg replica lag")
    run_refresh(runtime)
    page.reload()
    expect(page.locator(".component-status")).to_have_text("Partial outage")

    page.get_by_label("Public title").fill("Checkout errors")
    page.get_by_label("What readers should know").fill("Some payments <b>fail</b>; we are on it.")
    page.get_by_role("group", name="Affected components").get_by_label("Checkout").check()
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("Some payments <b>fail</b>; we are on it.")  # as text
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Post Checkout errors published.")).to_be_visible()
    screenshot(page, "statuspage-editor")

    reader = new_page(java_script_enabled=False, color_scheme="dark")
    reader.goto(f"{live_url}/status/acme/")
    expect(reader.get_by_role("heading", name="Acme status")).to_be_visible()
    expect(reader.locator("#component-1 .status")).to_have_text("Partial outage")
    expect(reader.get_by_role("status")).to_have_text("Partial System Outage")
    expect(reader.locator("article")).to_contain_text("Some payments <b>fail</b>")
    assert "pg replica lag" not in reader.content()
    background = reader.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)", background
    screenshot(reader, "statuspage-public-dark")
    reader.keyboard.press("Tab")
    assert reader.evaluate("document.activeElement.textContent") == "Skip to content"
    reader.get_by_label("Email address").fill("reader@example.com")
    reader.get_by_role("button", name="Subscribe").click()
    expect(reader.get_by_role("heading", name="Almost done")).to_be_visible()

    light = new_page(color_scheme="light")
    light.goto(f"{live_url}/status/acme/")
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == \
        "rgb(255, 255, 255)"
