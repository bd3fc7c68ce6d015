"""Routing rules page: add a rule, try an alert in the dry-run box, refuse bad rules."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def test_rule_and_dry_run(client: TestClient, admin: Account, viewer: Account) -> None:
    client.post("/api/v1/services", json={"name": "payments", "tier": "critical"},
                headers=admin.headers)
    csrf = web_login(client, admin)
    r = client.post("/routing/rules", data={
        "csrf_token": csrf, "name": "Payments team", "cond_field_0": "labels.team",
        "cond_op_0": "regex", "cond_value_0": "pay(", "act_service_id": "1"})
    assert r.status_code == 422 and 'value="Payments team"' in r.text  # bad regex, kept
    assert client.get("/api/v1/routing-rules", headers=admin.headers).json()["items"] == []
    r = client.post("/routing/rules", data={
        "csrf_token": csrf, "name": "Payments team", "cond_field_0": "labels.team",
        "cond_op_0": "equals", "cond_value_0": "payments", "act_service_id": "1",
        "act_severity": "SEV2"}, follow_redirects=False)
    assert r.status_code == 303
    assert "Payments team" in client.get("/routing").text

    viewer_client = TestClient(client.app)
    vcsrf = web_login(viewer_client, viewer)
    r = viewer_client.post("/routing/dry-run", data={
        "csrf_token": vcsrf, "dry_summary": "Card auth failing", "dry_labels": "team=payments"})
    assert r.status_code == 200
    result = r.text.split('id="dry-run-result"', 1)[1].split("</div>", 1)[0]
    assert "Payments team" in result and "payments" in result and "SEV2" in result
    r = viewer_client.post("/routing/dry-run", data={
        "csrf_token": vcsrf, "dry_summary": "Other", "dry_labels": "team=search"})
    assert "none matched" in r.text
    r = viewer_client.post("/routing/dry-run", data={"csrf_token": vcsrf,
                                                     "dry_labels": "no equals sign"})
    assert r.status_code == 422 and 'id="dry_labels-error"' in r.text
    r = viewer_client.post("/routing/rules", data={"csrf_token": vcsrf, "name": "x",
                                                   "act_severity": "SEV1"})
    assert r.status_code == 403
    assert len(client.get("/api/v1/routing-rules", headers=admin.headers).json()["items"]) == 1
