"""Stage moves backwards, empty updates, unknown components, and markup in any text: each a
clear 4xx that changes nothing, and text is shown as text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Account
from tests.statuspages.helpers import component, page, public, service
from tocsin.errors import Conflict, Invalid
from tocsin.statuspages.stages import INCIDENT_STAGES, check_update


def _post(client: TestClient, admin: Account, page_id: int, **body: object) -> int:
    r = client.post(f"/api/v1/statuspages/{page_id}/posts", headers=admin.headers,
                    json={"title": "Outage", "stage": "identified", "body": "Found it.", **body})
    assert r.status_code == 201, r.text
    pid: int = r.json()["id"]
    return pid


def test_backward_moves_empty_updates_and_unknown_components_are_refused(
        client: TestClient, admin: Account) -> None:
    p = page(client, admin)
    pid = _post(client, admin, p["id"])
    url = f"/api/v1/statuspages/{p['id']}/posts/{pid}/updates"
    r = client.post(url, headers=admin.headers, json={"stage": "investigating", "body": "x"})
    assert r.status_code == 409 and "cannot move back" in r.text
    r = client.post(url, headers=admin.headers, json={"stage": "monitoring", "body": "   "})
    assert r.status_code == 422 and "must say something" in r.text
    r = client.post(url, headers=admin.headers, json={"stage": "sleeping", "body": "zz"})
    assert r.status_code == 422 and "stage" in r.text
    r = client.post(url, headers=admin.headers,
                    json={"stage": "monitoring", "body": "ok", "component_ids": [4242]})
    assert r.status_code == 422 and "no component 4242" in r.text
    r = client.get(f"/api/v1/statuspages/{p['id']}/posts/{pid}", headers=admin.headers)
    assert [u["stage"] for u in r.json()["updates"]] == ["identified"]
    for stage in ("identified", "resolved"):  # the same stage again is an update; then done
        assert client.post(url, headers=admin.headers,
                           json={"stage": stage, "body": "more"}).status_code == 201
    r = client.post(url, headers=admin.headers, json={"stage": "resolved", "body": "again"})
    assert r.status_code == 409 and "no more updates" in r.text


def test_markup_in_any_text_is_shown_as_text(client: TestClient, admin: Account) -> None:
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    p = page(client, admin, description=evil)
    cid = component(client, admin, p["id"], evil, [service(client, admin, "api")], group=evil)
    _post(client, admin, p["id"], title=evil, body=evil, component_ids=[cid])
    html = public(client, "acme").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "default-src 'none'" in public(client, "acme").headers["Content-Security-Policy"]
    for feed in ("feed.rss", "feed.atom"):
        assert "<script>" not in public(client, "acme", feed).text


def test_only_the_comms_lead_or_an_admin_publishes(client: TestClient, admin: Account,
                                                   responder: Account) -> None:
    p = page(client, admin)
    r = client.post("/api/v1/incidents", headers=responder.headers,
                    json={"title": "x", "severity": "SEV2"})
    iid = r.json()["id"]
    body = {"title": "Outage", "stage": "investigating", "body": "Looking.", "incident_id": iid}
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=responder.headers, json=body)
    assert r.status_code == 403 and "communications lead" in r.text
    # A draft is fine; it is not shown until the comms lead (or an admin) publishes it.
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=responder.headers,
                    json={**body, "draft": True})
    assert r.status_code == 201, r.text
    post, draft = r.json()["id"], r.json()["updates"][0]["id"]
    assert "Outage" not in public(client, "acme").text
    publish = f"/api/v1/statuspages/{p['id']}/posts/{post}/updates/{draft}/publish"
    assert client.post(publish, headers=responder.headers).status_code == 403
    r = client.post(f"/api/v1/incidents/{iid}/roles", headers=responder.headers,
                    json={"role": "comms_lead", "user_id": responder.id})
    assert r.status_code == 200, r.text
    r = client.post(publish, headers=responder.headers)
    assert r.status_code == 200, r.text
    assert "Outage" in public(client, "acme").text


@given(st.lists(st.sampled_from(INCIDENT_STAGES), min_size=1, max_size=8))
def test_a_sequence_of_stages_is_accepted_exactly_when_it_never_goes_back(
        seq: list[str]) -> None:
    order = INCIDENT_STAGES.index
    current: str | None = None
    for new in seq:
        ok = current is None or (current != "resolved" and order(new) >= order(current))
        if ok:
            check_update(kind="incident", current=current, new=new, body="b")
            current = new
        else:
            with pytest.raises(Conflict):
                check_update(kind="incident", current=current, new=new, body="b")
    with pytest.raises(Invalid):
        check_update(kind="incident", current=None, new="investigating", body=" \n")
