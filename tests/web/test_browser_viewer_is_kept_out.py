"""In Chromium: a viewer sees neither a restricted incident nor the admin pages."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import Account
from tests.web.conftest import sign_in


def test_viewer_cannot_see_restricted_incident_or_admin_pages(
        live_url: str, new_page: Any, viewer: Account, make_incident: Any) -> None:
    secret = make_incident(title="Suspected credential leak", severity="SEV1", restricted=True)
    public = make_incident(title="Slow search", severity="SEV3")
    page = new_page()
    sign_in(page, live_url, viewer)

    page.goto(f"{live_url}/incidents?status=all")
    expect(page.get_by_role("link", name=f"{public['number']} Slow search")).to_be_visible()
    expect(page.get_by_text("Suspected credential leak")).to_have_count(0)
    expect(page.get_by_role("link", name="Declare incident")).to_have_count(0)

    response = page.goto(f"{live_url}/incidents/{secret['id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text("Suspected credential leak")).to_have_count(0)

    page.goto(f"{live_url}/")
    expect(page.get_by_text("Suspected credential leak")).to_have_count(0)
    expect(page.get_by_text("Slow search")).to_be_visible()

    for path in ("/users/new", "/services/new", "/teams/new", "/incidents/new", "/users/1"):
        response = page.goto(live_url + path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()

    # Read-only pages work, without the edit buttons.
    page.goto(f"{live_url}/services")
    expect(page.get_by_role("link", name="New service")).to_have_count(0)
    page.goto(f"{live_url}/incidents/{public['id']}")
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(page.get_by_role("heading", name="Actions")).to_have_count(0)
