"""Unknown owners, due dates in the past, missing incidents and script in Markdown: a clear
4xx (or sanitised output), and nothing half-written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def test_action_item_bad_owner_or_past_due_is_refused(
        client: TestClient, clock: FrozenClock, responder: Account,
        make_incident: Any) -> None:
    iid = make_incident()["id"]
    future = (clock.now() + timedelta(days=1)).isoformat()
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    url = f"/api/v1/incidents/{iid}/action-items"
    r = client.post(url, headers=responder.headers,
                    json={"title": "x", "owner_id": 9999, "due_at": future})
    assert r.status_code == 422 and "owner_id" in r.text
    r = client.post(url, headers=responder.headers,
                    json={"title": "x", "owner_id": responder.id, "due_at": past})
    assert r.status_code == 422 and "in the past" in r.text
    r = client.post("/api/v1/incidents/424242/action-items", headers=responder.headers,
                    json={"title": "x", "owner_id": responder.id, "due_at": future})
    assert r.status_code == 404
    assert client.get(url, headers=responder.headers).json()["items"] == []


def test_markdown_with_script_is_sanitised_in_export(
        client: TestClient, responder: Account, make_incident: Any) -> None:
    iid = make_incident()["id"]
    pm = client.post(f"/api/v1/incidents/{iid}/postmortem", headers=responder.headers,
                     json={}).json()
    r = client.patch(f"/api/v1/postmortems/{pm['id']}", headers=responder.headers, json={
        "summary": "**Checkout** down <script>alert(1)</script> "
                   "[x](javascript:alert(2)) <img src=x onerror=alert(3)>"})
    assert r.status_code == 200
    page = client.get(f"/api/v1/postmortems/{pm['id']}/print", headers=responder.headers)
    assert page.status_code == 200 and "<strong>Checkout</strong>" in page.text
    lowered = page.text.lower()
    assert "<script" not in lowered and "href=\"javascript" not in lowered
    assert "<img" not in lowered and "&lt;script&gt;" in lowered  # shown as text, inert
    md = client.get(f"/api/v1/postmortems/{pm['id']}/export.md", headers=responder.headers)
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Post-mortem: INC-") and "## Root cause (5 whys)" in md.text


def test_second_postmortem_for_one_incident_conflicts(
        client: TestClient, responder: Account, make_incident: Any) -> None:
    iid = make_incident()["id"]
    url = f"/api/v1/incidents/{iid}/postmortem"
    assert client.post(url, headers=responder.headers, json={}).status_code == 201
    assert client.post(url, headers=responder.headers, json={}).status_code == 409
