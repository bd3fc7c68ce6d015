"""Review comments per section: a reviewer comments on "Root cause", the owner is told by
email (the notify outbox, real SMTP), replies and resolves the thread; the open count per
section follows; bad input and viewers are refused, nothing half-written."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.runtime import Runtime


def _postmortem(client: TestClient, owner: Account) -> dict[str, Any]:
    iid = client.post("/api/v1/incidents", headers=owner.headers,
                      json={"title": "Search slow", "severity": "SEV2"}).json()["id"]
    r = client.post(f"/api/v1/incidents/{iid}/postmortem", headers=owner.headers, json={})
    assert r.status_code == 201, r.text
    pm: dict[str, Any] = r.json()
    return pm


def test_reviewer_comments_owner_is_told_replies_and_resolves(
        client: TestClient, runtime: Runtime, smtp: tuple[Inbox, int], make_account: Any,
        viewer: Account) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    owner, rita = make_account(name="Olga Owner"), make_account(name="Rita Reviewer")
    verified_email(client, w, inbox, owner, "olga@x.io")
    verified_email(client, w, inbox, rita, "rita@x.io")
    pm = _postmortem(client, owner)
    base = f"/api/v1/postmortems/{pm['id']}"
    assert client.post(f"{base}/review", headers=owner.headers,
                       json={"reviewer_ids": [rita.id]}).status_code == 200

    r = client.post(f"{base}/comments", headers=rita.headers, json={
        "section": "root_cause", "body": "Why did the index rebuild start at peak time?"})
    assert r.status_code == 201, r.text
    thread = r.json()
    assert (thread["author_name"], thread["parent_id"], thread["resolved_at"]) == (
        "Rita Reviewer", None, None)
    drain(w)
    [notice] = [m for m in inbox.to("olga@x.io") if "comment" in m["Subject"]]
    assert "Root cause" in notice["Subject"]
    text = body_of(notice)
    assert "Rita Reviewer" in text and "index rebuild" in text
    assert f"/postmortems/{pm['id']}" in text
    got = client.get(base, headers=viewer.headers).json()
    assert got["open_comments"] == {"root_cause": 1}

    # The owner replies (no notice to themselves) and resolves the thread.
    reply = client.post(f"{base}/comments", headers=owner.headers, json={
        "parent_id": thread["id"], "body": "A cron default; moved to 03:00."}).json()
    assert (reply["section"], reply["parent_id"]) == ("root_cause", thread["id"])
    r = client.post(f"{base}/comments/{thread['id']}/resolve", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["resolved_by_id"] == owner.id
    drain(w)
    assert len([m for m in inbox.to("olga@x.io") if "comment" in m["Subject"]]) == 1
    got = client.get(base, headers=owner.headers).json()
    assert got["open_comments"] == {}
    assert [(c["id"], c["parent_id"]) for c in got["comments"]] == [
        (thread["id"], None), (reply["id"], thread["id"])]
    assert client.post(f"{base}/comments/{thread['id']}/resolve",
                       headers=owner.headers).status_code == 409

    # A reviewer's reply opens the thread again, and tells the owner.
    client.post(f"{base}/comments", headers=rita.headers,
                json={"parent_id": reply["id"], "body": "And the alert for it?"})
    assert client.get(base, headers=owner.headers).json()["open_comments"] == {
        "root_cause": 1}
    drain(w)
    assert len([m for m in inbox.to("olga@x.io") if "comment" in m["Subject"]]) == 2


def test_bad_comments_and_viewers_are_refused(
        client: TestClient, responder: Account, viewer: Account) -> None:
    pm = _postmortem(client, responder)
    base = f"/api/v1/postmortems/{pm['id']}"
    first = client.post(f"{base}/comments", headers=responder.headers,
                        json={"section": "summary", "body": "Say who was affected."}).json()
    for body, word in (({"body": "no section"}, "section"),
                       ({"section": "nowhere", "body": "x"}, "section"),
                       ({"section": "summary", "body": ""}, "body"),
                       ({"parent_id": 999999, "body": "x"}, "parent_id"),
                       ({"parent_id": first["id"], "section": "impact", "body": "x"},
                        "section")):
        r = client.post(f"{base}/comments", headers=responder.headers, json=body)
        assert r.status_code == 422 and word in r.text, (body, r.text)
    assert client.post(f"{base}/comments", headers=viewer.headers,
                       json={"section": "summary", "body": "x"}).status_code == 403
    assert client.post(f"{base}/comments/{first['id']}/resolve",
                       headers=viewer.headers).status_code == 403
    assert client.post(f"{base}/comments/999999/resolve",
                       headers=responder.headers).status_code == 404
    got = client.get(base, headers=responder.headers).json()
    assert [c["id"] for c in got["comments"]] == [first["id"]]
    assert got["open_comments"] == {"summary": 1}
