"""In Chromium: a reviewer comments on "Root cause" from the post-mortem editor (with
JavaScript off: the form needs none), the owner sees it under that section with the
reviewer's name and an open count, and resolves it; the owner was told by the outbox."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.web.conftest import screenshot, sign_in
from tocsin.notify.models import ContactMethod, Message
from tocsin.runtime import Runtime


def test_reviewer_comments_on_root_cause_and_owner_resolves_it(
        live_url: str, new_page: Any, client: TestClient, runtime: Runtime,
        make_account: Any) -> None:
    owner, rita = make_account(name="Olga Owner"), make_account(name="Rita Reviewer")
    iid = client.post("/api/v1/incidents", headers=owner.headers,
                      json={"title": "Search slow", "severity": "SEV2"}).json()["id"]
    pm = client.post(f"/api/v1/incidents/{iid}/postmortem", headers=owner.headers,
                     json={}).json()
    client.post(f"/api/v1/postmortems/{pm['id']}/review", headers=owner.headers,
                json={"reviewer_ids": [rita.id]})
    r = client.post(f"/api/v1/users/{owner.id}/contact-methods", headers=owner.headers,
                    json={"kind": "email", "address": "olga@x.io"})
    with runtime.sessions() as s, s.begin():  # verified (the code round trip is notify's)
        s.execute(update(ContactMethod).where(ContactMethod.id == r.json()["id"])
                  .values(verified_at=runtime.clock.now()))

    reviewer = new_page(java_script_enabled=False)
    sign_in(reviewer, live_url, rita, path=f"/postmortems/{pm['id']}")
    root = reviewer.locator('[data-comments="root_cause"]')
    expect(root.locator('[data-open-count="root_cause"]')).to_have_text("0")
    root.get_by_text("Comment on Root cause").click()  # a <details>: opens without JS
    root.get_by_label("Your comment").fill("Why did the index rebuild start at peak time?")
    root.get_by_role("button", name="Add comment").click()
    root = reviewer.locator('[data-comments="root_cause"]')
    expect(root).to_contain_text("Why did the index rebuild start at peak time?")
    expect(root.locator('[data-open-count="root_cause"]')).to_have_text("1")
    # Only that section has it; the editor's own fields were left alone.
    expect(reviewer.locator('[data-open-count="summary"]')).to_have_text("0")
    expect(reviewer.locator("[data-pm-status]")).to_have_text("in review")

    page = new_page()
    sign_in(page, live_url, owner, path=f"/postmortems/{pm['id']}")
    root = page.locator('[data-comments="root_cause"]')
    thread = root.locator("article.pm-thread")
    expect(thread).to_have_count(1)
    expect(thread).to_contain_text("Rita Reviewer")
    expect(thread).to_contain_text("reviewer")
    expect(root).to_contain_text("1 open comment on Root cause")
    screenshot(page, "postmortem-comment")
    thread.get_by_role("button", name="Mark resolved").click()
    root = page.locator('[data-comments="root_cause"]')
    expect(root.locator("[data-resolved]")).to_contain_text("Resolved by Olga Owner")
    expect(root.locator('[data-open-count="root_cause"]')).to_have_text("0")

    got = client.get(f"/api/v1/postmortems/{pm['id']}", headers=owner.headers).json()
    assert got["open_comments"] == {}
    [comment] = got["comments"]
    assert (comment["section"], comment["author_id"], comment["resolved_by_id"]) == (
        "root_cause", rita.id, owner.id)
    with runtime.sessions() as s:  # the notice to the owner went through the outbox
        subjects = [p["subject"] for p in s.scalars(select(Message.payload).where(
            Message.user_id == owner.id, Message.kind == "briefing"))]
    assert any("comment on Root cause" in t for t in subjects), subjects
