"""In Chromium: create an HTTP check in the form (field messages first), find it in the
list, and open its page with the response-time chart drawn from a day of results."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import PHONE, screenshot, sign_in
from tocsin.checks import recording, rollup
from tocsin.checks.recording import Observation
from tocsin.runtime import Runtime


def _a_day_of_results(runtime: Runtime, check_id: int) -> None:
    """Four results an hour over the 23 hours before this one (with the current hour, the
    24 h window), one hour failing."""
    now = runtime.clock.now()
    for hour in range(23, 0, -1):
        at = now - timedelta(hours=hour)
        base = 80 + int(60 * (1 + math.sin(hour / 4)))
        results = [Observation(check_id, "server", at + timedelta(minutes=15 * i),
                               hour != 5, base + 25 * i, None if hour != 5 else "HTTP 502")
                   for i in range(4)]
        with runtime.sessions() as session, session.begin():
            recording.record(session, results, now=at + timedelta(minutes=59),
                             settings=runtime.settings)
            rollup.roll_up(session, now=at + timedelta(minutes=59))


def test_create_check_see_it_listed_and_its_chart(live_url: str, new_page: Any, admin: Account,
                                                  client: Any, runtime: Runtime) -> None:
    r = client.post("/api/v1/services", json={"name": "checkout", "tier": "critical"},
                    headers=admin.headers)
    assert r.status_code == 201, r.text
    page = new_page()
    sign_in(page, live_url, admin)
    page.get_by_role("link", name="Checks", exact=True).click()
    expect(page.get_by_text("No checks match.")).to_be_visible()
    page.get_by_role("link", name="New check").click()
    page.get_by_role("link", name="http").click()
    page.get_by_role("button", name="Create check").click()
    expect(page.locator('[id="name-error"]')).to_be_visible()
    expect(page.locator('[id="config.url-error"]')).to_be_visible()
    page.locator("#f-name").fill("Checkout API")
    page.get_by_label("Service").select_option(label="checkout")
    page.locator('[id="f-config.url"]').fill("https://checkout.example.com/health")
    page.get_by_label("Keyword that must appear").fill("ok")
    page.get_by_role("button", name="Create check").click()
    expect(page.get_by_text("Check Checkout API created.")).to_be_visible()
    check_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    _a_day_of_results(runtime, check_id)
    page.get_by_role("link", name="Checks", exact=True).first.click()
    row = page.locator(".check-row", has_text="Checkout API")
    expect(row).to_contain_text("GET https://checkout.example.com/health")
    expect(row).to_contain_text("95.65 %")  # 22 of 23 hours up
    screenshot(page, "checks-desktop")
    row.get_by_role("link", name="Checkout API").click()
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    drawn = chart.locator("path.series-p50").get_attribute("d") or ""
    assert drawn.startswith("M") and drawn.count("L") >= 21  # one point per hour
    expect(page.locator(".uptime")).to_contain_text("95.652 %")
    expect(page.locator("table.results")).to_contain_text("HTTP 502")
    screenshot(page, "check-detail-desktop")
    page.get_by_role("link", name="7d").click()
    expect(page.locator("svg.chart path.series-max")).to_be_visible()

    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/checks/{check_id}")
    screenshot(page, "check-detail-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto(f"{live_url}/checks")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
