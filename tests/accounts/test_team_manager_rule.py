"""A team's escalation policies change only by that team's managers (or admins): a member of
another team is refused, in the API and in the web form."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.accounts import service as accounts
from tocsin.principal import Role, TeamRole
from tocsin.runtime import Runtime

LEVELS = [{"delay_minutes": 0, "targets": [{"kind": "user", "id": 1}]}]


def test_member_of_another_team_cannot_edit_a_teams_policy(
        runtime: Runtime, client: TestClient, admin: Account,
        make_account: Callable[..., Account]) -> None:
    payments_manager, search_member = make_account(Role.RESPONDER), make_account(Role.RESPONDER)
    teams = {}
    for name, who, role in (("Payments", payments_manager, TeamRole.MANAGER),
                            ("Search", search_member, TeamRole.MEMBER)):
        r = client.post("/api/v1/teams", headers=admin.headers, json={"name": name})
        assert r.status_code == 201, r.text
        teams[name] = r.json()["id"]
        with runtime.sessions() as s, s.begin():
            accounts.set_team_role(s, team_id=teams[name], user_id=who.id, role=role)
    body = {"name": "Payments primary", "levels": LEVELS, "team_id": teams["Payments"]}
    r = client.post("/api/v1/escalation-policies", headers=payments_manager.headers, json=body)
    assert r.status_code == 201, r.text
    policy = r.json()["id"]

    r = client.put(f"/api/v1/escalation-policies/{policy}", headers=search_member.headers,
                   json={**body, "name": "hijacked"})
    assert r.status_code == 403
    assert "only managers of team 'Payments'" in r.json()["detail"]

    manager_web = TestClient(client.app)
    web_login(manager_web, payments_manager)
    assert f"/escalation?edit={policy}" in manager_web.get("/escalation").text
    csrf = web_login(client, search_member)
    assert f"/escalation?edit={policy}" not in client.get("/escalation").text
    assert client.get(f"/escalation?edit={policy}").status_code == 403
    r = client.post(f"/escalation?edit={policy}", data={
        "csrf_token": csrf, "name": "hijacked", "team_id": str(teams["Payments"]),
        "target_0_0": f"user:{search_member.id}", "delay_0": "0"})
    assert r.status_code == 403
    assert "only managers of team" in r.text
    r = client.get(f"/api/v1/escalation-policies/{policy}", headers=admin.headers)
    assert r.json()["name"] == "Payments primary"

    # The team's own manager may change it.
    r = client.put(f"/api/v1/escalation-policies/{policy}", headers=payments_manager.headers,
                   json={**body, "description": "owned by Payments"})
    assert r.status_code == 200, r.text
