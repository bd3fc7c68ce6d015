"""In Chromium: a SEV1 declared shows its checklist; a task is done from the page and lands
on the timeline; the bridge is set; the commander role is handed over with a note; before
closing, the open tasks are listed (closing is not blocked)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import screenshot, sign_in


def test_checklist_task_bridge_and_handoff_on_the_incident_page(
        live_url: str, new_page: Any, client: Any, admin: Account, responder: Account,
        make_account: Any, make_incident: Any) -> None:
    nina = make_account(name="Nina Next")
    r = client.post("/api/v1/checklists", headers=admin.headers, json={
        "name": "SEV1 basics", "severity": "SEV1",
        "items": ["assign comms", "open status page post"]})
    assert r.status_code == 201, r.text
    iid = make_incident(title="Checkout down", severity="SEV1")["id"]
    page = new_page()
    sign_in(page, live_url, responder, path=f"/incidents/{iid}")
    tasks = page.locator("section", has=page.get_by_role("heading", name="Tasks"))
    expect(tasks).to_contain_text("assign comms")
    expect(tasks).to_contain_text("2 open")
    tasks.locator("li", has_text="assign comms").get_by_role("button", name="Done").click()
    expect(page.locator("section", has=page.get_by_role("heading", name="Tasks"))
           ).to_contain_text("1 open")
    expect(page.locator("#timeline")).to_contain_text("task done: assign comms")

    page.get_by_text("Bridge", exact=True).click()
    page.get_by_label("Conference link").fill("ftp://nope.example.com/x")
    page.get_by_role("button", name="Set bridge").click()
    expect(page.get_by_text("http:// or https://")).to_be_visible()
    page.get_by_label("Conference link").fill("https://meet.example.com/war-room")
    page.get_by_role("button", name="Set bridge").click()
    expect(page.locator("a[data-bridge]")).to_have_attribute(
        "href", "https://meet.example.com/war-room")

    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Hand over a role").click()
    page.locator("#f-ho-role").select_option("commander")
    page.locator("#f-ho-user").select_option(str(nina.id))
    page.get_by_label("Handoff note").fill("failover done; CDN ticket 4411 open")
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator(".incident-head")).to_contain_text("Nina Next")
    expect(page.locator("#timeline")).to_contain_text(
        "commander handed over: failover done; CDN ticket 4411 open")

    page.get_by_label("What fixed it").fill("failover")
    page.get_by_label("Users affected", exact=True).first.fill("5")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("[data-open-tasks]")).to_contain_text("open status page post")
    screenshot(page, "respond-incident")
