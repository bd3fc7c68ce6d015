"""Setup forms: field-level messages, typed values kept, nothing half-saved, admin only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def _services(client: TestClient, account: Account) -> dict[str, list[int]]:
    rows = client.get("/api/v1/services", headers=account.headers).json()["items"]
    return {s["name"]: s["depends_on"] for s in rows}


def test_dependency_cycle_is_refused_and_nothing_changes(client: TestClient,
                                                         admin: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post("/services/new", data={"csrf_token": csrf, "name": "db", "tier": "critical"},
                    follow_redirects=False)
    assert r.status_code == 303
    client.post("/services/new", data={"csrf_token": csrf, "name": "api", "tier": "high",
                                       "depends_on": "1"})
    assert _services(client, admin) == {"db": [], "api": [1]}
    r = client.post("/services/1", data={"csrf_token": csrf, "name": "database",
                                         "tier": "critical", "depends_on": "2"})
    assert r.status_code == 422
    assert "dependency cycle" in r.text
    assert 'value="database"' in r.text  # what was typed is kept
    assert _services(client, admin) == {"db": [], "api": [1]}  # the rename did not half-save


def test_new_user_form_shows_each_bad_field(client: TestClient, admin: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post("/users/new", data={"csrf_token": csrf, "name": "Nia", "email": "not-an-email",
                                        "role": "responder", "time_zone": "Mars/Olympus",
                                        "password": "short"})
    assert r.status_code == 422
    assert 'id="email-error"' in r.text and 'id="time_zone-error"' in r.text
    assert 'id="password-error"' in r.text
    assert 'value="not-an-email"' in r.text and 'value="Mars/Olympus"' in r.text
    assert "use at least 10 characters" in r.text and "String should have" not in r.text
    assert "enter an email address, like ana@example.com" in r.text
    users = client.get("/api/v1/users", headers=admin.headers).json()["items"]
    assert "Nia" not in [u["name"] for u in users]


def test_duplicate_email_is_marked_at_its_field(client: TestClient, admin: Account,
                                               responder: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post("/users/new", data={"csrf_token": csrf, "name": "Twin",
                                        "email": responder.user.email.upper(),
                                        "role": "responder", "time_zone": "UTC",
                                        "password": "long enough password"})
    assert r.status_code == 409
    error = re.search(r'id="email-error"[^>]*>([^<]*)<', r.text)
    assert error and "already exists" in error.group(1), r.text


def test_viewer_cannot_post_admin_forms(client: TestClient, viewer: Account,
                                        admin: Account) -> None:
    csrf = web_login(client, viewer)
    r = client.post("/services/new", data={"csrf_token": csrf, "name": "sneaky"})
    assert r.status_code == 403
    r = client.post("/users/new", data={"csrf_token": csrf, "name": "x", "email": "x@example.com",
                                        "role": "admin"})
    assert r.status_code == 403
    assert _services(client, admin) == {}


def test_api_key_token_shown_once_then_revoked(client: TestClient, responder: Account) -> None:
    csrf = web_login(client, responder)
    r = client.post("/api-keys", data={"csrf_token": csrf, "name": "grafana", "scope": "viewer"})
    assert r.status_code == 200 and "Copy this key now" in r.text
    token = r.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    fresh = TestClient(client.app)
    assert fresh.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    keys = client.get("/api/v1/api-keys", headers=responder.headers).json()["items"]
    key_id = next(k["id"] for k in keys if k["name"] == "grafana")
    assert token not in client.get("/api-keys").text
    r = client.post(f"/api-keys/{key_id}/revoke", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert fresh.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_profile_password_change_needs_the_current_one(client: TestClient,
                                                       responder: Account) -> None:
    csrf = web_login(client, responder)
    r = client.post("/me", data={"csrf_token": csrf, "name": "Rui", "time_zone": "Europe/Lisbon",
                                 "current_password": "wrong", "new_password": "brand new secret"})
    assert r.status_code == 422 and 'id="current_password-error"' in r.text
    me = client.get("/api/v1/me", headers=responder.headers).json()
    assert me["time_zone"] == "UTC"  # nothing saved
    r = client.post("/me", data={"csrf_token": csrf, "name": "Rui", "time_zone": "Europe/Lisbon"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/me", headers=responder.headers).json()["time_zone"] == \
        "Europe/Lisbon"
