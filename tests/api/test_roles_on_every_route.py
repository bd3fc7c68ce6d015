"""Every API route demands a credential, and writes demand more than the viewer role."""

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.app import create_app
from tocsin.principal import Role
from tocsin.runtime import Runtime

PUBLIC = {"/api/v1/health"}
MACHINE_PREFIXES = ("/api/v1/probe/", "/api/v1/intake/", "/api/v1/inbound/")


def _api_routes(runtime: Runtime) -> list[tuple[str, str]]:
    """Every documented API operation, path parameters filled with 1."""
    paths = create_app(runtime).openapi()["paths"]
    return [(method.upper(), re.sub(r"\{[^}]+\}", "1", path))
            for path, operations in paths.items()
            if path.startswith("/api/v1/") and path not in PUBLIC
            for method in operations]


def test_every_route_refuses_anonymous_requests(runtime: Runtime, client: TestClient) -> None:
    routes = _api_routes(runtime)
    assert len(routes) > 20
    for method, path in routes:
        r = client.request(method, path)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_viewer_cannot_write(runtime: Runtime, client: TestClient, viewer: Account) -> None:
    # A viewer may read, may manage their own API keys, may try routing without effect, may
    # put their own setup checklist away (or bring it back), and nothing else.
    allowed = {("POST", "/api/v1/api-keys"), ("DELETE", "/api/v1/api-keys/1"),
               ("POST", "/api/v1/routing-rules/dry-run"), ("POST", "/api/v1/setup/dismiss"),
               ("DELETE", "/api/v1/setup/dismiss")}
    for method, path in _api_routes(runtime):
        if method == "GET" or (method, path) in allowed:
            continue
        r = client.request(method, path, headers=viewer.headers, json={})
        # Routes for machines (probe agents, alert senders) take their own credentials, so a
        # user's key is not even recognised there.
        refused = {401, 403} if path.startswith(MACHINE_PREFIXES) else {403}
        assert r.status_code in refused, (method, path, r.status_code, r.text)


def test_responder_cannot_administer(client: TestClient, responder: Account) -> None:
    for method, path in [("POST", "/api/v1/users"), ("POST", "/api/v1/services"),
                         ("POST", "/api/v1/teams"), ("PATCH", "/api/v1/users/1"),
                         ("DELETE", "/api/v1/services/1")]:
        r = client.request(method, path, headers=responder.headers, json={})
        assert r.status_code == 403, (method, path)
        assert "admin" in r.json()["detail"]


def test_garbage_credentials(client: TestClient) -> None:
    for header in ("Bearer nope", "Basic abc", "Bearer tsn_deadbeef0000_xyz", "Bearer "):
        r = client.get("/api/v1/incidents", headers={"Authorization": header})
        assert r.status_code == 401, header


def test_admins_viewer_scoped_key_writes_no_more_than_a_viewer(
        runtime: Runtime, client: TestClient, make_account: Callable[..., Account]) -> None:
    # Every route that creates users, changes roles, mints keys (integration keys, probe
    # tokens) or otherwise writes judges the key's scope, not its owner's role.
    admin_as_viewer = make_account(Role.ADMIN, scope=Role.VIEWER)
    allowed = {("POST", "/api/v1/api-keys"), ("DELETE", "/api/v1/api-keys/1"),
               ("POST", "/api/v1/routing-rules/dry-run"), ("POST", "/api/v1/setup/dismiss"),
               ("DELETE", "/api/v1/setup/dismiss")}
    for method, path in _api_routes(runtime):
        if method == "GET" or (method, path) in allowed:
            continue
        r = client.request(method, path, headers=admin_as_viewer.headers, json={})
        refused = {401, 403} if path.startswith(MACHINE_PREFIXES) else {403}
        assert r.status_code in refused, (method, path, r.status_code, r.text)
