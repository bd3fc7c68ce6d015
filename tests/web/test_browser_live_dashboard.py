"""In Chromium: the dashboard shows a new incident without a reload, and screenshots of it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import PHONE, screenshot, sign_in


def test_dashboard_updates_live(live_url: str, new_page: Any, responder: Account,
                                make_incident: Any, client: Any, admin: Account) -> None:
    for name, tier in (("checkout", "critical"), ("search", "medium")):
        client.post("/api/v1/services", json={"name": name, "tier": tier},
                    headers=admin.headers)
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Checkout primary", "time_zone": "UTC", "layers": [{
            "name": "Primary", "participants": [responder.id, admin.id], "unit": "weeks",
            "length": 1, "start": "2026-01-05T09:00:00"}]})
    assert r.status_code == 201, r.text
    first = make_incident(title="Search latency high", severity="SEV3", service_ids=[2])
    client.post(f"/api/v1/incidents/{first['id']}/acknowledge", headers=responder.headers)
    page = new_page()
    sign_in(page, live_url, responder)
    expect(page.get_by_text("Search latency high")).to_be_visible()
    marker = page.evaluate("window.__marker = 'same page'")
    assert marker == "same page"

    make_incident(title="Checkout returning 500", severity="SEV1", service_ids=[1])
    row = page.locator(".incident-row", has_text="Checkout returning 500")
    expect(row).to_be_visible(timeout=15_000)
    expect(row).to_contain_text("not acknowledged")
    expect(page.locator(".incident-row", has_text="Search latency high")).to_contain_text(
        f"ack by {responder.user.name}")
    expect(page.locator(".oncall-now")).to_contain_text("You are on call now (Checkout primary)")
    # Same document: the region was refreshed in place, not by navigating.
    assert page.evaluate("window.__marker") == "same page"
    screenshot(page, "dashboard-desktop")
    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "dashboard-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
