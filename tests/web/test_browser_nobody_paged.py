"""In Chromium: an incident whose first level could page nobody carries a banner naming who
could not be paged, on its page and on the dashboard (screenshot for docs/web.md)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.conftest import Account
from tests.escalation.test_paging_problems_flagged import policy_paging, service_paged_by
from tests.web.conftest import DOC_SCREENSHOTS, sign_in

DOCS = DOC_SCREENSHOTS


def test_nobody_paged_banner_in_the_browser(live_url: str, new_page: Any, client: TestClient,
                                            admin: Account, make_account: Any,
                                            make_incident: Any) -> None:
    ana = make_account(name="Ana Lima")
    sid = service_paged_by(client, admin, policy_paging(client, admin, ana.id))
    iid = make_incident(title="Checkout returns 500", severity="SEV1", service_ids=[sid])["id"]
    page = new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, live_url, admin, path=f"/incidents/{iid}")
    banner = page.locator("[data-nobody-paged]")
    expect(banner).to_contain_text("Nobody was paged for this incident.")
    expect(banner).to_contain_text("Ana Lima has no verified contact method")
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "nobody-paged-incident.png"))
    page.goto(live_url + "/")
    expect(page.locator("[data-nobody-paged]")).to_contain_text(
        "Ana Lima has no verified contact method")
