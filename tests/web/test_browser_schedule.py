"""In Chromium: an admin creates a schedule; the calendar shows the layer and the final
result; an override picked on the calendar is drawn on top; who is on call follows it; a
business-hours layer and a shift swap are added from the same page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import PHONE, screenshot, sign_in


def test_create_schedule_and_see_who_is_on_call(live_url: str, new_page: Any, admin: Account,
                                                responder: Account, make_account: Any) -> None:
    third = make_account(name="Tomas Third")
    page = new_page()
    sign_in(page, live_url, admin)
    page.get_by_role("link", name="On call").click()
    page.get_by_role("link", name="New schedule").click()
    page.get_by_role("button", name="Create schedule").click()
    expect(page.locator("#name-error")).to_be_visible()  # nothing typed: field messages
    expect(page.locator("#layer_start-error")).to_be_visible()
    page.locator("#f-name").fill("Payments primary")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("1st").select_option(label=responder.user.name)
    page.get_by_label("2nd").select_option(label=third.user.name)
    page.get_by_label("Each shift lasts (unit)").select_option("weeks")
    page.get_by_label("How many").fill("1")
    # The frozen clock is Monday 2026-01-05 12:00 UTC; handoffs on Mondays at 09:00.
    page.get_by_label("First handoff").fill("2026-01-05T09:00")
    page.get_by_role("button", name="Create schedule").click()

    expect(page.get_by_role("heading", name="Payments primary")).to_be_visible()
    expect(page.locator(".oncall-now-line")).to_contain_text(responder.user.name)
    final = page.locator(".lane-final .cal-bar")
    expect(final.first).to_contain_text(responder.user.name)
    expect(page.locator(".lane-layer .cal-bar").first).to_contain_text(responder.user.name)

    # Month view: the rotation hands over to the second person a week later.
    page.get_by_role("link", name="Month").click()
    expect(page.locator(".lane-final .cal-bar", has_text=third.user.name).first).to_be_visible()
    page.get_by_role("link", name="Week").click()

    # Picking a span on the final row fills the override form (rounded to the hour).
    track = page.locator(".lane-final .cal-track").first
    box = track.bounding_box()
    assert box is not None
    track.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    track.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    expect(page.get_by_label("From (UTC)")).to_have_value("2026-01-08T12:00")
    expect(page.get_by_label("To (UTC)")).to_have_value("2026-01-10T06:00")

    # Override today 11:00-18:00 for the third person; drawn striped on the final row.
    page.get_by_label("Who takes it").select_option(label=third.user.name)
    page.get_by_label("From (UTC)").fill("2026-01-05T11:00")
    page.get_by_label("To (UTC)").fill("2026-01-05T18:00")
    page.get_by_label("Reason").fill("doctor's appointment")
    page.get_by_role("button", name="Add override").click()
    expect(page.get_by_text("Override added.")).to_be_visible()
    expect(page.locator(".lane-final .cal-bar.override")).to_contain_text(third.user.name)
    expect(page.locator(".oncall-now-line")).to_contain_text(third.user.name)

    # A business-hours layer on top: the admin covers weekdays 09:00-17:00.
    layer = page.locator("#layer-form")
    layer.get_by_label("Layer name").fill("Office hours")
    layer.get_by_label("1st").select_option(label=admin.user.name)
    layer.get_by_label("Each shift lasts (unit)").select_option("days")
    layer.get_by_label("How many").fill("1")
    layer.get_by_label("First handoff").fill("2026-01-05T09:00")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        layer.locator("fieldset.window").first.get_by_label(day).check()
    layer.locator("#f-window_1_from").fill("09:00")
    layer.locator("#f-window_1_to").fill("17:00")
    layer.get_by_role("button", name="Add layer").click()
    expect(page.get_by_text("Layer Office hours added.")).to_be_visible()
    expect(page.locator(".tag.window")).to_have_text("Mon, Tue, Wed, Thu, Fri 09:00\u201317:00")
    # Tuesday 10:00-17:00 the admin's layer wins; the night belongs to the rotation.
    expect(page.locator(".lane-final .cal-bar", has_text=admin.user.name).first).to_be_visible()

    # A swap: the responder's Wednesday for the third person's next Tuesday.
    swap = page.locator("#swap-form")
    swap.get_by_label("First person").select_option(label=responder.user.name)
    swap.locator("#f-swap_start").fill("2026-01-07T00:00")
    swap.locator("#f-swap_end").fill("2026-01-07T09:00")
    swap.get_by_label("Second person").select_option(label=third.user.name)
    swap.locator("#f-swap_other_start").fill("2026-01-13T00:00")
    swap.locator("#f-swap_other_end").fill("2026-01-13T09:00")
    swap.get_by_role("button", name="Save swap").click()
    expect(page.get_by_text("Swap saved: two overrides added.")).to_be_visible()
    expect(page.locator(".lane-final .cal-bar.override")).to_have_count(2)
    screenshot(page, "schedule-desktop")

    page.goto(f"{live_url}/schedules")
    expect(page.locator(".oncall-cell")).to_have_text(third.user.name)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/schedules/1?view=week")
    screenshot(page, "schedule-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_dashboard_shows_my_on_call_now_and_next(live_url: str, new_page: Any, admin: Account,
                                                 responder: Account, client: Any) -> None:
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Nights", "time_zone": "UTC", "layers": [{
            "name": "Primary", "participants": [admin.id, responder.id], "unit": "days",
            "length": 1, "start": "2026-01-05T00:00:00"}]})
    assert r.status_code == 201, r.text
    page = new_page()
    sign_in(page, live_url, responder)
    expect(page.get_by_text("You are not on call now.")).to_be_visible()
    expect(page.get_by_text("Next shift: 2026-01-06 00:00 \u2013 2026-01-07 00:00 (Nights)")
           ).to_be_visible()
    other = new_page()
    sign_in(other, live_url, admin)
    expect(other.locator(".oncall-now")).to_contain_text("You are on call now (Nights)")
