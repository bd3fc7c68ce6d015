"""A team target in the web policy editor pages all members or one in turn
(round-robin), as the API allows; the choice is kept when editing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def test_team_target_round_robin_saved_and_shown(client: TestClient, admin: Account,
                                                 responder: Account) -> None:
    r = client.post("/api/v1/teams", headers=admin.headers,
                    json={"name": "SRE", "member_ids": [admin.id, responder.id]})
    assert r.status_code == 201, r.text
    team_id = r.json()["id"]
    csrf = web_login(client, admin)
    r = client.post("/escalation", data={
        "csrf_token": csrf, "name": "SRE in turn", "target_0_0": f"team:{team_id}",
        "mode_0_0": "round_robin", "target_0_1": f"user:{admin.id}",
        "mode_0_1": "round_robin", "delay_0": "10"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    policy = client.get("/api/v1/escalation-policies",
                        headers=admin.headers).json()["items"][0]
    targets = policy["levels"][0]["targets"]
    assert targets[0] == {"kind": "team", "id": team_id, "mode": "round_robin"}
    assert targets[1]["mode"] == "all"  # the choice means nothing for a person
    assert "SRE (one in turn)" in client.get("/escalation").text
    edit = client.get(f"/escalation?edit={policy['id']}").text
    assert '<option value="round_robin" selected>' in edit


def test_unknown_team_mode_names_its_field(client: TestClient, admin: Account) -> None:
    team_id = client.post("/api/v1/teams", headers=admin.headers,
                          json={"name": "SRE"}).json()["id"]
    csrf = web_login(client, admin)
    r = client.post("/escalation", data={
        "csrf_token": csrf, "name": "SRE", "target_0_0": f"team:{team_id}",
        "mode_0_0": "everyone-twice"})
    assert r.status_code == 422
    assert 'id="mode_0_0-error"' in r.text and 'value="SRE"' in r.text
    assert client.get("/api/v1/escalation-policies",
                      headers=admin.headers).json()["items"] == []
