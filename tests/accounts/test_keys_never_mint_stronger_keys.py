"""A key creates keys with at most what it grants itself: its scope, capped by its owner's
role. A missing scope means that cap, never the owner's full role."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.principal import Role


def _new_key(client: TestClient, creator: Account, **body: object) -> dict[str, object]:
    r = client.post("/api/v1/api-keys", json={"name": "minted", **body}, headers=creator.headers)
    assert r.status_code == 201, r.text
    created: dict[str, object] = r.json()
    return created


def _bearer(key: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['token']}"}


def test_admins_viewer_key_mints_only_viewer_keys(client: TestClient,
                                                  make_account: Callable[..., Account]) -> None:
    admin_as_viewer = make_account(Role.ADMIN, scope=Role.VIEWER)
    minted = _new_key(client, admin_as_viewer)
    assert minted["scope"] == "viewer"
    r = client.post("/api/v1/users", json={"name": "Eve", "email": "eve@example.com",
                                           "role": "admin"}, headers=_bearer(minted))
    assert r.status_code == 403


def test_responders_viewer_key_mints_only_viewer_keys(
        client: TestClient, make_account: Callable[..., Account]) -> None:
    responder_as_viewer = make_account(Role.RESPONDER, scope=Role.VIEWER)
    minted = _new_key(client, responder_as_viewer)
    assert minted["scope"] == "viewer"
    r = client.post("/api/v1/incidents", json={"title": "x"}, headers=_bearer(minted))
    assert r.status_code == 403


def test_asking_for_more_than_the_key_grants_is_refused(
        client: TestClient, make_account: Callable[..., Account]) -> None:
    admin_as_responder = make_account(Role.ADMIN, scope=Role.RESPONDER)
    r = client.post("/api/v1/api-keys", json={"name": "x", "scope": "admin"},
                    headers=admin_as_responder.headers)
    assert r.status_code == 422
    assert _new_key(client, admin_as_responder, scope="viewer")["scope"] == "viewer"


def test_a_scoped_admin_key_cannot_mint_keys_for_others(
        client: TestClient, make_account: Callable[..., Account], responder: Account) -> None:
    admin_as_viewer = make_account(Role.ADMIN, scope=Role.VIEWER)
    r = client.post("/api/v1/api-keys", json={"name": "x", "user_id": responder.id},
                    headers=admin_as_viewer.headers)
    assert r.status_code == 403


def test_a_full_admin_key_still_mints_admin_keys(client: TestClient, admin: Account,
                                                 responder: Account) -> None:
    assert _new_key(client, admin)["scope"] == "admin"
    # For someone else: capped by that person's role.
    assert _new_key(client, admin, user_id=responder.id)["scope"] == "responder"
