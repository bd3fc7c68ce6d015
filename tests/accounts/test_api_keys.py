"""API keys: random, shown once, stored hashed, scoped, revocable, last-used tracked."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tocsin.accounts.models import ApiKey
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_token_shown_once_and_stored_hashed(client: TestClient, runtime: Runtime,
                                            responder: Account) -> None:
    r = client.post("/api/v1/api-keys", json={"name": "ci"}, headers=responder.headers)
    assert r.status_code == 201
    token = r.json()["token"]
    assert token.startswith("tsn_") and len(token) > 40
    listed = client.get("/api/v1/api-keys", headers=responder.headers).json()["items"]
    assert all("token" not in k for k in listed)
    with runtime.sessions() as s:
        stored = s.scalars(select(ApiKey).where(ApiKey.id == r.json()["id"])).one()
    secret = token.split("_", 2)[2]  # the secret itself may contain "_"
    assert len(secret) > 30 and secret not in stored.secret_hash
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()[
        "id"] == responder.id


def test_scope_caps_the_owner_role(client: TestClient, admin: Account) -> None:
    r = client.post("/api/v1/api-keys", json={"name": "read-only", "scope": "viewer"},
                    headers=admin.headers)
    readonly = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/v1/incidents", headers=readonly).status_code == 200
    r = client.post("/api/v1/incidents", json={"title": "x"}, headers=readonly)
    assert r.status_code == 403


def test_scope_above_role_is_refused(client: TestClient, responder: Account) -> None:
    r = client.post("/api/v1/api-keys", json={"name": "x", "scope": "admin"},
                    headers=responder.headers)
    assert r.status_code == 422


def test_revoked_key_stops_working(client: TestClient, responder: Account) -> None:
    created = client.post("/api/v1/api-keys", json={"name": "tmp"},
                          headers=responder.headers).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    r = client.delete(f"/api/v1/api-keys/{created['id']}", headers=responder.headers)
    assert r.json()["revoked_at"] is not None
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_last_used_is_tracked_and_throttled(client: TestClient, clock: FrozenClock,
                                            responder: Account) -> None:
    def last_used() -> str | None:
        client.get("/api/v1/me", headers=responder.headers)  # a use of the key
        keys = client.get("/api/v1/api-keys", headers=responder.headers).json()["items"]
        value: str | None = keys[0]["last_used_at"]
        return value

    first = last_used()
    assert first is not None
    clock.advance(seconds=10)
    assert last_used() == first  # within api_key_touch_seconds: no write
    clock.advance(timedelta(minutes=2))
    assert last_used() != first


def test_keys_of_others_are_hidden_from_non_admins(client: TestClient, responder: Account,
                                                   viewer: Account, admin: Account) -> None:
    mine = client.get("/api/v1/api-keys", headers=viewer.headers).json()["items"]
    assert {k["user_id"] for k in mine} == {viewer.id}
    assert client.delete(f"/api/v1/api-keys/{mine[0]['id']}",
                         headers=responder.headers).status_code == 404
    everyone = client.get("/api/v1/api-keys", headers=admin.headers).json()["items"]
    assert {viewer.id, responder.id, admin.id} <= {k["user_id"] for k in everyone}
