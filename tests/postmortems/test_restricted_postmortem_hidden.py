"""A restricted incident's post-mortem and action items are invisible to outsiders: the same
404 as for nothing at all, and absent from lists and search."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def test_outsider_sees_nothing_of_a_restricted_postmortem(
        client: TestClient, clock: FrozenClock, admin: Account, make_account: Any,
        make_incident: Any) -> None:
    owner, outsider = make_account(), make_account()
    iid = make_incident(as_=owner, title="Secret breach", restricted=True)["id"]
    pm = client.post(f"/api/v1/incidents/{iid}/postmortem", headers=owner.headers,
                     json={}).json()
    client.patch(f"/api/v1/postmortems/{pm['id']}", headers=owner.headers,
                 json={"summary": "token leak via debug endpoint"})
    client.post(f"/api/v1/postmortems/{pm['id']}/review", headers=owner.headers,
                json={"reviewer_ids": [owner.id]})
    client.post(f"/api/v1/postmortems/{pm['id']}/approve", headers=owner.headers)
    published = client.post(f"/api/v1/postmortems/{pm['id']}/publish", headers=owner.headers)
    assert published.json()["status"] == "published"
    item = client.post(f"/api/v1/incidents/{iid}/action-items", headers=owner.headers, json={
        "title": "rotate tokens", "owner_id": owner.id,
        "due_at": (clock.now() + timedelta(days=2)).isoformat()}).json()
    h = outsider.headers
    for path in (f"/api/v1/postmortems/{pm['id']}", f"/api/v1/postmortems/{pm['id']}/print",
                 f"/api/v1/postmortems/{pm['id']}/export.md",
                 f"/api/v1/incidents/{iid}/postmortem", f"/api/v1/incidents/{iid}/action-items"):
        assert client.get(path, headers=h).status_code == 404, path
    assert client.patch(f"/api/v1/action-items/{item['id']}", headers=h,
                        json={"status": "done"}).status_code == 404
    assert client.get("/api/v1/postmortems?q=token", headers=h).json()["items"] == []
    assert client.get(f"/api/v1/action-items?owner_id={owner.id}", headers=h
                      ).json()["items"] == []
    # Its owner finds it by searching published post-mortems.
    assert [p["id"] for p in client.get("/api/v1/postmortems?q=token leak",
                                        headers=owner.headers).json()["items"]] == [pm["id"]]
