"""Every API route demands a credential, and writes demand more than the viewer role."""

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.accounts import service as accounts
from tocsin.app import create_app
from tocsin.principal import Role, TeamRole
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
    # A viewer may read, may manage their own API keys and sessions, may try routing without effect, may
    # put their own setup checklist away (or bring it back), and nothing else.
    allowed = {("POST", "/api/v1/api-keys"), ("DELETE", "/api/v1/api-keys/1"),
               ("DELETE", "/api/v1/sessions/1"),
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
    for method, path, body in [("POST", "/api/v1/users", {}), ("POST", "/api/v1/teams", {}),
                               ("PATCH", "/api/v1/users/1", {}),
                               # Owned by no team: admins only (team_scope below).
                               ("POST", "/api/v1/services", {"name": "Orphan"})]:
        r = client.request(method, path, headers=responder.headers, json=body)
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
               ("DELETE", "/api/v1/sessions/1"),
               ("POST", "/api/v1/routing-rules/dry-run"), ("POST", "/api/v1/setup/dismiss"),
               ("DELETE", "/api/v1/setup/dismiss")}
    for method, path in _api_routes(runtime):
        if method == "GET" or (method, path) in allowed:
            continue
        r = client.request(method, path, headers=admin_as_viewer.headers, json={})
        refused = {401, 403} if path.startswith(MACHINE_PREFIXES) else {403}
        assert r.status_code in refused, (method, path, r.status_code, r.text)


# ---- team scope -------------------------------------------------------------------------------

# Configuration a team owns: every write route under these paths (and the integration reads,
# which show the secret key) is for that team's managers and admins only.
TEAM_OWNED = ("/api/v1/services", "/api/v1/schedules", "/api/v1/escalation-policies",
              "/api/v1/integrations", "/api/v1/statuspages/{page_id}/components")
# Operational, not configuration: any responder covers a shift or swaps one, and the
# outgoing on-call leaves the incoming one a handoff note (respond/).
OPERATIONAL = {
    ("POST", "/api/v1/schedules/{schedule_id}/handoff-notes"),
    ("POST", "/api/v1/schedules/{schedule_id}/overrides"),
    ("POST", "/api/v1/schedules/{schedule_id}/swaps"),
    ("DELETE", "/api/v1/schedules/{schedule_id}/overrides/{override_id}"),
}
SECRET_READS = {("GET", "/api/v1/integrations/{integration_id}"),
                ("GET", "/api/v1/integrations/{integration_id}/sample")}


def _team_routes(runtime: Runtime) -> set[tuple[str, str]]:
    paths = create_app(runtime).openapi()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() if p.startswith(TEAM_OWNED)
            for m in ops if m != "get" or (m.upper(), p) in SECRET_READS} - OPERATIONAL


def _setup_teams(runtime: Runtime, client: TestClient, admin: Account,
                 make_account: Callable[..., Account]) -> dict[str, Any]:
    """Teams A and B, each with a manager; A owns a service, schedule, policy, integration."""
    made: dict[str, Any] = {}
    for name in ("A", "B"):
        made[name] = client.post("/api/v1/teams", headers=admin.headers,
                                 json={"name": f"Team {name}"}).json()["id"]
        manager = make_account(Role.RESPONDER)
        with runtime.sessions() as s, s.begin():
            accounts.set_team_role(s, team_id=made[name], user_id=manager.id,
                                   role=TeamRole.MANAGER)
        made[f"{name}_manager"] = manager
    a = made["A"]
    made["service"] = client.post("/api/v1/services", headers=admin.headers, json={
        "name": "Checkout", "owner_team_id": a}).json()["id"]
    made["schedule"] = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "A rota", "time_zone": "UTC", "team_id": a}).json()["id"]
    made["policy"] = client.post("/api/v1/escalation-policies", headers=admin.headers, json={
        "name": "A policy", "team_id": a, "levels": [
            {"delay_minutes": 0, "targets": [{"kind": "schedule", "id": made["schedule"]}]}],
    }).json()["id"]
    made["integration"] = client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": made["service"], "kind": "alertmanager", "name": "A am"}).json()["id"]
    made["page"] = client.post("/api/v1/statuspages", headers=admin.headers, json={
        "slug": "a", "name": "A status"}).json()["id"]
    made["component"] = client.post(f"/api/v1/statuspages/{made['page']}/components",
                                    headers=admin.headers, json={
        "name": "Checkout", "service_ids": [made["service"]]}).json()["id"]
    return made


def _requests(t: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(method, route template, path, body) for each team route, on team A's things; the
    deletions last, so a manager of A can run them all in this order."""
    a, svc, sch, pol, integ = t["A"], t["service"], t["schedule"], t["policy"], t["integration"]
    page, comp = t["page"], t["component"]
    components = f"/api/v1/statuspages/{page}/components"
    levels = [{"delay_minutes": 0, "targets": [{"kind": "schedule", "id": sch}]}]
    return [
        ("POST", "/api/v1/services", "/api/v1/services", {"name": "New", "owner_team_id": a}),
        ("PATCH", "/api/v1/services/{service_id}", f"/api/v1/services/{svc}",
         {"description": "changed"}),
        ("PUT", "/api/v1/services/{service_id}/triage", f"/api/v1/services/{svc}/triage",
         {"grouping": "per_alert"}),
        ("PUT", "/api/v1/services/{service_id}/escalation-policies",
         f"/api/v1/services/{svc}/escalation-policies", {"policies": {"SEV1": pol}}),
        ("POST", "/api/v1/schedules", "/api/v1/schedules",
         {"name": "Another", "time_zone": "UTC", "team_id": a}),
        ("PUT", "/api/v1/schedules/{schedule_id}", f"/api/v1/schedules/{sch}",
         {"name": "A rota", "time_zone": "Europe/Berlin", "team_id": a}),
        ("POST", "/api/v1/escalation-policies", "/api/v1/escalation-policies",
         {"name": "Another", "team_id": a, "levels": levels}),
        ("PUT", "/api/v1/escalation-policies/{policy_id}", f"/api/v1/escalation-policies/{pol}",
         {"name": "A policy", "team_id": a, "levels": levels, "description": "edited"}),
        ("POST", "/api/v1/integrations", "/api/v1/integrations",
         {"service_id": svc, "kind": "grafana", "name": "Another"}),
        ("GET", "/api/v1/integrations/{integration_id}", f"/api/v1/integrations/{integ}", None),
        ("GET", "/api/v1/integrations/{integration_id}/sample",
         f"/api/v1/integrations/{integ}/sample", None),
        ("PATCH", "/api/v1/integrations/{integration_id}", f"/api/v1/integrations/{integ}",
         {"name": "renamed"}),
        ("DELETE", "/api/v1/integrations/{integration_id}", f"/api/v1/integrations/{integ}",
         None),
        ("POST", "/api/v1/statuspages/{page_id}/components", components,
         {"name": "New", "service_ids": [svc]}),
        ("PUT", "/api/v1/statuspages/{page_id}/components/{component_id}/override",
         f"{components}/{comp}/override", {"status": "degraded_performance", "note": "x"}),
        ("PUT", "/api/v1/statuspages/{page_id}/components/{component_id}",
         f"{components}/{comp}", {"name": "Checkout", "service_ids": [svc]}),
        ("DELETE", "/api/v1/statuspages/{page_id}/components/{component_id}",
         f"{components}/{comp}", None),
        ("DELETE", "/api/v1/schedules/{schedule_id}", f"/api/v1/schedules/{sch}", None),
        ("DELETE", "/api/v1/services/{service_id}", f"/api/v1/services/{svc}", None),
    ]


def test_only_the_owning_teams_managers_change_team_configuration(
        runtime: Runtime, client: TestClient, admin: Account,
        make_account: Callable[..., Account]) -> None:
    t = _setup_teams(runtime, client, admin, make_account)
    requests = _requests(t)
    # Every team route is tried: a new one fails here until it is added above.
    assert {(m, route) for m, route, _, _ in requests} == _team_routes(runtime)
    member = make_account(Role.RESPONDER)
    with runtime.sessions() as s, s.begin():
        accounts.set_team_role(s, team_id=t["A"], user_id=member.id, role=TeamRole.MEMBER)
    limited = client.post("/api/v1/api-keys", headers=admin.headers, json={
        "name": "B only", "team_id": t["B"]}).json()["token"]
    for who, label in [(t["B_manager"].headers, "B's manager"),
                       (member.headers, "a plain member of A"),
                       ({"Authorization": f"Bearer {limited}"}, "an admin key limited to B")]:
        for method, _route, path, body in requests:
            r = client.request(method, path, headers=who, json=body)
            assert r.status_code == 403, (label, method, path, r.status_code, r.text)
    for method, _route, path, body in requests:
        r = client.request(method, path, headers=t["A_manager"].headers, json=body)
        assert r.status_code < 300, (method, path, r.status_code, r.text)
