"""In Chromium without JavaScript: the commander opens the incident, writes a progress
update from its template (filled from the incident), previews it, sees the list it goes to,
sends it, and sees it among past updates with the next one promised; an admin adds a
distribution list on the stakeholders screen. Every field is reached by its label."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import screenshot, sign_in


def test_commander_sends_a_progress_update_without_javascript(
        live_url: str, new_page: Any, admin: Account, client: Any,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    sid = client.post("/api/v1/services", json={"name": "checkout"},
                      headers=admin.headers).json()["id"]
    r = client.post("/api/v1/stakeholders/lists", headers=admin.headers, json={
        "name": "Support desk", "targets": [{"kind": "email", "address": "desk@example.com"}]})
    assert r.status_code == 201, r.text
    inc = make_incident(severity="SEV2", service_ids=[sid], title="Checkout slow",
                        description="Card payments take 30 s")

    page = new_page(java_script_enabled=False)
    sign_in(page, live_url, admin, path=f"/incidents/{inc['id']}")
    panel = page.get_by_role("region", name="Stakeholder updates")
    expect(panel).to_contain_text("No update promised")
    panel.get_by_role("link", name="Write a stakeholder update").click()
    expect(page.get_by_role("heading", name="Stakeholder update", exact=True)).to_be_visible()

    page.get_by_label("Template").select_option("progress")
    page.get_by_role("button", name="Use this template").click()
    message = page.get_by_label("Message")
    expect(message).to_have_value(
        "Status: triggered\n\nCurrent hypothesis: [hypothesis]\nActions taken: [actions]\n"
        "Next step: [next_step]\n\nNext update by {next_update}.")
    expect(page.get_by_label("Subject")).to_have_value("[SEV2] Update: checkout")
    message.fill("Status: investigating\n\nCurrent hypothesis: a slow card processor\n"
                 "Actions taken: failed over\nNext step: watch\n\nNext update by {next_update}.")
    page.get_by_label("Next update promised in (minutes; 0: no promise)").fill("20")
    expect(page.get_by_role("group", name="It goes to")).to_contain_text(
        "Support desk: 1 recipient")

    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("Current hypothesis: a slow card processor")
    expect(preview).to_contain_text("Promises the next update by")
    expect(preview).not_to_contain_text("{next_update}")
    expect(page.get_by_label("Message")).to_contain_text("a slow card processor")  # kept
    screenshot(page, "stakeholder-update-preview")

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Stakeholder update sent to 1 recipient(s).")).to_be_visible()
    past = page.get_by_role("region", name="Past updates")
    expect(past.get_by_role("article")).to_have_count(1)
    expect(past).to_contain_text("[SEV2] Update: checkout")
    expect(past).to_contain_text("sent")
    expect(page.get_by_role("region", name="Promised next update")).to_contain_text("Due ")

    page.get_by_role("link", name=f"← {inc['number']} Checkout slow").click()
    expect(page.get_by_role("region", name="Stakeholder updates")).to_contain_text(
        "Next update due")


def test_admin_adds_a_distribution_list(live_url: str, new_page: Any, admin: Account) -> None:
    page = new_page(java_script_enabled=False)
    sign_in(page, live_url, admin, path="/stakeholders")
    page.get_by_role("link", name="Stakeholders").click()
    expect(page.get_by_label("Initial subject")).to_have_value(
        "[{severity}] Investigating an issue affecting {service}")
    page.get_by_label("List name").fill("Executives")
    page.get_by_role("group", name="Severities (none chosen: all)").get_by_label("SEV1").check()
    page.get_by_label("Executive list: gets the short summary for SEV1").check()
    page.get_by_label("Recipients, one a line: kind and address").fill("email not-an-address")
    page.get_by_role("button", name="Add list").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.get_by_label("Recipients, one a line: kind and address")).to_have_value(
        "email not-an-address")  # what was typed is kept
    page.get_by_label("Recipients, one a line: kind and address").fill("email cto@example.com")
    page.get_by_role("button", name="Add list").click()
    expect(page.get_by_text("Distribution list Executives added.")).to_be_visible()
    row = page.get_by_role("row", name="Executives")
    expect(row).to_contain_text("SEV1")
    expect(row).to_contain_text("cto@example.com")
    screenshot(page, "stakeholder-lists")
