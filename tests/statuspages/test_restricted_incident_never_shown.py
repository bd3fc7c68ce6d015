"""A restricted incident, and a component of a service not on the page, are never shown: not
on the page, not in the feeds, not in any JSON endpoint, not in the export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import feedparser
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.statuspages.helpers import (
    PUBLIC_FILES,
    component,
    component_status,
    page,
    public,
    run_refresh,
    service,
)
from tocsin.runtime import Runtime


def _post(client: TestClient, who: Account, page_id: int, title: str, **extra: Any) -> Any:
    return client.post(f"/api/v1/statuspages/{page_id}/posts", headers=who.headers,
                       json={"title": title, "stage": "investigating",
                             "body": f"{title}: we are looking into it", **extra})


def test_restricted_incident_absent_from_page_feeds_and_every_json(
        client: TestClient, runtime: Runtime, admin: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    api, vault = service(client, admin, "api"), service(client, admin, "vault")
    p = page(client, admin)
    api_c = component(client, admin, p["id"], "API", [api])
    vault_c = component(client, admin, p["id"], "Vault", [vault])
    open_one = make_incident(severity="SEV2", service_ids=[api], title="internal-open-title")
    secret = make_incident(severity="SEV1", service_ids=[vault], title="SECRET-BREACH-TITLE",
                           restricted=True)
    assert _post(client, admin, p["id"], "Public API slowness", incident_id=open_one["id"],
                 component_ids=[api_c]).status_code == 201
    # An admin may write a post about the restricted incident; it is still never shown.
    r = _post(client, admin, p["id"], "Hidden-Post-Title", incident_id=secret["id"],
              component_ids=[vault_c])
    assert r.status_code == 201, r.text
    run_refresh(runtime)

    assert component_status(client, "acme", "API") == "partial_outage"
    assert component_status(client, "acme", "Vault") == "operational"  # not derived from it
    for name in PUBLIC_FILES:
        text = public(client, "acme", name).text
        for leak in ("SECRET-BREACH-TITLE", "Hidden-Post-Title", "internal-open-title"):
            assert leak not in text, (name, leak)
    assert "Public API slowness" in public(client, "acme").text
    unresolved = public(client, "acme", "api/v2/incidents/unresolved.json").json()
    assert [i["name"] for i in unresolved["incidents"]] == ["Public API slowness"]
    for feed in ("feed.rss", "feed.atom"):
        parsed = feedparser.parse(public(client, "acme", feed).content)
        assert not parsed.bozo, parsed.bozo_exception
        assert [e.title for e in parsed.entries] == ["Public API slowness: Investigating"]
    summary = public(client, "acme", "api/v2/summary.json").json()
    assert summary["status"]["indicator"] == "minor"


def test_component_of_a_service_not_on_the_page_never_shows(
        client: TestClient, runtime: Runtime, admin: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    api, internal = service(client, admin, "api"), service(client, admin, "payroll")
    public_page = page(client, admin, slug="public")
    staff_page = page(client, admin, slug="staff")
    component(client, admin, public_page["id"], "API", [api])
    payroll_c = component(client, admin, staff_page["id"], "Payroll", [internal])
    make_incident(severity="SEV1", service_ids=[internal])
    # A post on the public page cannot name the other page's component.
    r = _post(client, admin, public_page["id"], "Payroll down", component_ids=[payroll_c])
    assert r.status_code == 422 and "no component" in r.text
    run_refresh(runtime)
    assert component_status(client, "staff", "Payroll") == "major_outage"
    for name in PUBLIC_FILES:
        assert "Payroll" not in public(client, "public", name).text, name
    assert public(client, "public", "api/v2/status.json").json()["status"]["indicator"] == "none"
