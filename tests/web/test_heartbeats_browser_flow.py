"""In Chromium: create a heartbeat in the form, copy its ping URL from the page, ping it the
way a cron job would (start, then success with its output), and see the run on the page."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import PHONE, screenshot, sign_in


def test_create_heartbeat_ping_it_and_see_the_run(live_url: str, new_page: Any, admin: Account,
                                                  client: Any) -> None:
    r = client.post("/api/v1/services", json={"name": "backups", "tier": "high"},
                    headers=admin.headers)
    assert r.status_code == 201, r.text
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    sign_in(page, live_url, admin)
    page.get_by_role("link", name="Checks", exact=True).click()
    page.get_by_role("link", name="Heartbeats").click()
    page.get_by_role("link", name="New heartbeat").click()
    page.locator("#f-name").fill("Nightly backup")
    page.get_by_label("Service").select_option(label="backups")
    page.get_by_label("Every (seconds)").fill("")
    page.get_by_label("Cron expression", exact=True).fill("0 3 * * 61")
    page.get_by_role("button", name="Create heartbeat").click()
    expect(page.locator("#cron-error")).to_be_visible()
    page.get_by_label("Cron expression", exact=True).fill("0 3 * * *")
    page.get_by_role("button", name="Create heartbeat").click()
    expect(page.get_by_text("Heartbeat Nightly backup created.")).to_be_visible()

    url = page.locator("#ping-url").inner_text().strip()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url
    # The page shows the public URL; the test server listens on its own port.
    ping = f"{live_url}/ping/{url.rsplit('/', 1)[1]}"
    assert httpx.post(f"{ping}/start", timeout=10).status_code == 200
    assert httpx.post(ping, content=b"dumped 3 databases, 2.1 GB", timeout=10).status_code == 200

    page.reload()
    pings = page.locator("table.pings")
    expect(pings).to_contain_text("dumped 3 databases")
    expect(pings).to_contain_text("start")
    expect(page.locator("h1 .badge")).to_have_text("up")
    screenshot(page, "heartbeat-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
