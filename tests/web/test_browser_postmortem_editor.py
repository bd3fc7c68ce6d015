"""In Chromium: a resolved SEV2's post-mortem edited in the browser — the draft's timeline
and impact come from the record, blame is flagged with a suggestion (and saving still
works), an extra timeline entry is ticked, an action item added, then review and publish;
the print page is sanitised."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import screenshot, sign_in
from tocsin.engine.worker import Worker
from tocsin.jobs import JOBS, TIMER_HANDLERS
from tocsin.runtime import Runtime


def test_postmortem_editor_from_draft_to_published(
        live_url: str, new_page: Any, client: TestClient, runtime: Runtime,
        responder: Account, make_account: Any) -> None:
    dana = make_account(name="Dana Smith")
    h = responder.headers
    iid = client.post("/api/v1/incidents", headers=h,
                      json={"title": "Checkout failing", "severity": "SEV2"}).json()["id"]
    client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=h)
    note = client.post(f"/api/v1/incidents/{iid}/entries", headers=h,
                       json={"kind": "note", "body": "error rate 40%"}).json()
    client.post(f"/api/v1/incidents/{iid}/resolve", headers=h,
                json={"resolution_summary": "rolled back", "users_affected": 300})
    Worker(runtime=runtime, jobs=JOBS, handlers=TIMER_HANDLERS, worker_id="t").run_cycle()

    page = new_page()
    sign_in(page, live_url, responder, path=f"/incidents/{iid}")
    page.get_by_role("link", name="draft").click()
    expect(page.locator("[data-pm-status]")).to_have_text("draft")
    expect(page.locator('[data-impact="users_affected"]')).to_have_text("300")
    expect(page.locator("tr.key")).to_have_count(3)  # detected, acknowledged, resolved
    row = page.locator(f'tr[data-event="{note["id"]}"] input[type=checkbox]')
    expect(row).not_to_be_checked()

    page.get_by_label("Root cause (5 whys)").fill(
        "Dana caused the outage by pushing a bad config.")
    page.get_by_label("Summary").fill("Checkout failed <script>alert(1)</script> for 20 min.")
    row.check()
    page.get_by_role("button", name="Save").click()
    advice = page.locator("[data-blameless]")
    expect(advice).to_contain_text("Dana caused the outage")
    expect(advice).to_contain_text("allowed")
    expect(page.locator(f'tr[data-event="{note["id"]}"] input[type=checkbox]')).to_be_checked()

    page.get_by_label("Action item").fill("Validate configs before deploy")
    page.get_by_label("Owner").select_option(label="Dana Smith")
    page.get_by_label("Due").fill("2027-01-15T17:00")
    page.get_by_role("button", name="Add action item").click()
    expect(page.locator("table.pm-items")).to_contain_text("Validate configs before deploy")
    screenshot(page, "postmortem-editor")

    page.get_by_label("Reviewers").select_option(label=responder.user.name)
    page.get_by_role("button", name="Send to review").click()
    expect(page.locator("[data-pm-status]")).to_have_text("in review")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("[data-pm-status]")).to_have_text("published")

    page.get_by_role("link", name="Print").click()
    expect(page.locator("h1")).to_contain_text("Post-mortem: INC-")
    assert "<script>alert" not in page.content()
    items = client.get(f"/api/v1/action-items?owner_id={dana.id}", headers=h).json()["items"]
    assert [i["title"] for i in items] == ["Validate configs before deploy"]
