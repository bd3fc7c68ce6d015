"""Escalation policies from the web: create, edit, choose one per severity on a service;
a SEV2 incident on that service then escalates on it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.escalation import service as escalation
from tocsin.runtime import Runtime


def test_policy_editor_and_service_policies(client: TestClient, runtime: Runtime,
                                            admin: Account, responder: Account,
                                            make_incident: Any) -> None:
    client.post("/api/v1/services", json={"name": "payments", "tier": "critical"},
                headers=admin.headers)
    csrf = web_login(client, admin)
    r = client.post("/escalation", data={"csrf_token": csrf, "name": "Payments SEV2"})
    assert r.status_code == 422 and "at least at the first level" in r.text
    r = client.post("/escalation", data={
        "csrf_token": csrf, "name": "Payments SEV2", "target_0_0": f"user:{responder.id}",
        "delay_0": "15", "target_1_0": f"user:{admin.id}", "delay_1": "30"},
        follow_redirects=False)
    assert r.status_code == 303
    with runtime.sessions() as session:
        policy = escalation.list_policies(session)[0]
        policy_id, levels = policy.id, policy.levels
    assert [lv["targets"][0]["id"] for lv in levels] == [responder.id, admin.id]
    page = client.get("/escalation").text
    assert "at 0 min" in page and "at 15 min" in page

    edit = client.get(f"/escalation?edit={policy_id}").text
    assert 'value="Payments SEV2"' in edit
    r = client.post(f"/escalation?edit={policy_id}", data={
        "csrf_token": csrf, "name": "Payments major", "target_0_0": f"user:{responder.id}",
        "delay_0": "5", "repeat": "1"}, follow_redirects=False)
    assert r.status_code == 303
    assert "Then repeats once more." in client.get("/escalation").text
    with runtime.sessions() as session:
        assert [p.name for p in escalation.list_policies(session)] == ["Payments major"]

    r = client.post("/services/1/policies", data={"csrf_token": csrf,
                                                  "policy_SEV2": str(policy_id)},
                    follow_redirects=False)
    assert r.status_code == 303
    with runtime.sessions() as session:
        assert escalation.service_policies(session, 1) == {"SEV2": policy_id}
    assert "Payments major" in client.get("/services/1").text

    iid = make_incident(title="Card payments failing", severity="SEV2", service_ids=[1])["id"]
    timeline = client.get(f"/incidents/{iid}").text
    assert "Payments major" in timeline  # the escalation started on the chosen policy
