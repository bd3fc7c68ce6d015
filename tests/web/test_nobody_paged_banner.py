"""An incident whose escalation reached nobody is not quiet: a banner on the incident and on
the dashboard says so, naming the people (not their ids), until someone owns it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.escalation.test_paging_problems_flagged import policy_paging, service_paged_by
from tests.web.conftest import web_login


def test_banner_names_who_could_not_be_paged(client: TestClient, admin: Account,
                                             responder: Account, make_account: Any,
                                             make_incident: Any) -> None:
    ana = make_account(name="Ana Lima")
    sid = service_paged_by(client, admin, policy_paging(client, admin, ana.id))
    iid = make_incident(title="Checkout down", severity="SEV1", service_ids=[sid])["id"]
    quiet = make_incident(title="Paged elsewhere", severity="SEV3")["id"]
    csrf = web_login(client, responder)

    page = client.get(f"/incidents/{iid}").text
    assert "data-nobody-paged" in page and "Nobody was paged" in page
    assert "Ana Lima has no verified contact method" in page
    assert f"user {ana.id} " not in page

    dashboard = client.get("/").text
    assert "data-nobody-paged" in dashboard
    assert f'href="/incidents/{iid}">INC-{iid}</a>' in dashboard
    assert "Ana Lima has no verified contact method" in dashboard
    # No policy at all is the other way to page nobody: it is listed too.
    assert f"INC-{quiet}</a>: no escalation policy" in dashboard

    r = client.post(f"/incidents/{iid}/acknowledge", data={"csrf_token": csrf, "form": "ack"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "data-nobody-paged" not in client.get(f"/incidents/{iid}").text
    assert f'href="/incidents/{iid}">INC-{iid}</a>' not in client.get("/").text
