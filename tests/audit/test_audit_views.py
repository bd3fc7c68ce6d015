"""The audit log in the web app and the API: filtered, exported as JSON lines; sign-ins,
failed sign-ins and views of restricted incidents are in it; sessions can be ended."""

from __future__ import annotations

import itertools
import json

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import CSRF_RE, web_login
from tocsin.runtime import Runtime


def test_sign_ins_and_restricted_views_are_audited_and_exported(
        runtime: Runtime, client: TestClient, admin: Account, responder: Account) -> None:
    page = client.get("/login")
    token = CSRF_RE.search(page.text)
    assert token
    r = client.post("/login", data={"email": responder.user.email, "password": "nope",
                                    "csrf_token": token.group(1), "next": "/"})
    assert r.status_code == 401
    web_login(client, responder)
    r = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Secret thing", "severity": "SEV3", "restricted": True})
    inc = r.json()["id"]
    assert client.get(f"/api/v1/incidents/{inc}", headers=admin.headers).status_code == 200

    def entries(**params: str) -> list[dict[str, object]]:
        items: list[dict[str, object]] = client.get(
            "/api/v1/audit", headers=admin.headers, params=params).json()["items"]
        return items

    failed = entries(action="sign_in_failed")
    assert failed[0]["detail"] == "wrong email or password"
    assert failed[0]["actor"] == responder.user.email and failed[0]["source"]
    assert entries(action="sign_in", actor_id=str(responder.id))
    viewed = entries(action="viewed_restricted")
    assert [(v["actor_id"], v["target_id"]) for v in viewed] == [(admin.id, str(inc))]

    export = client.get("/api/v1/audit/export", headers=admin.headers)
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [e["id"] for e in lines] == sorted(e["id"] for e in lines)
    assert lines[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(lines))

    admin_web = TestClient(client.app)
    web_login(admin_web, admin)
    html = admin_web.get("/audit", params={"action": "viewed_restricted"}).text
    table = html[html.index('id="audit-entries"'):]
    assert "<td>viewed_restricted</td>" in table and "<td>sign_in_failed</td>" not in table
    assert client.get("/audit").status_code == 403  # the responder's browser


def test_secrets_are_redacted_and_sessions_can_be_ended(
        client: TestClient, admin: Account, responder: Account) -> None:
    r = client.post("/api/v1/api-keys", headers=responder.headers, json={"name": "ci"})
    assert r.status_code == 201
    created = client.get("/api/v1/audit", headers=admin.headers,
                         params={"target": "api_keys", "action": "created"}).json()["items"]
    assert created[0]["after"]["secret_hash"] == "[redacted]"
    assert created[0]["after"]["name"] == "ci"

    phone, laptop = TestClient(client.app), TestClient(client.app)
    web_login(phone, responder)
    web_login(laptop, responder)
    sessions = laptop.get("/api/v1/sessions").json()["items"]
    assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
    other = next(s for s in sessions if not s["current"])
    csrf = CSRF_RE.search(laptop.get("/profile/sessions").text)
    assert csrf
    r = laptop.post(f"/profile/sessions/{other['id']}/end", data={"csrf_token": csrf.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303
    assert phone.get("/incidents", follow_redirects=False).status_code == 303  # signed out
    # Someone else's session: not found for a non-admin, ended by an admin.
    web_login(phone, responder)
    mine = [s["id"] for s in phone.get("/api/v1/sessions").json()["items"]]
    admin_web = TestClient(client.app)
    web_login(admin_web, admin)
    admins = admin_web.get("/api/v1/sessions").json()["items"]
    r = client.delete(f"/api/v1/sessions/{admins[0]['id']}", headers=responder.headers)
    assert r.status_code == 404
    assert admin_web.get("/incidents", follow_redirects=False).status_code == 200
    listed = client.get("/api/v1/sessions", headers=admin.headers,
                        params={"user_id": responder.id}).json()["items"]
    assert {s["id"] for s in listed} >= set(mine)
    for session_id in mine:
        assert client.delete(f"/api/v1/sessions/{session_id}",
                             headers=admin.headers).status_code == 204
    assert phone.get("/incidents", follow_redirects=False).status_code == 303
