"""A configuration change is audited with before and after (secrets redacted), and
`tocsin audit verify` fails once a row is altered by hand."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from tests.conftest import Account
from tocsin.console import app
from tocsin.runtime import Runtime


def test_change_is_audited_and_a_hand_edit_breaks_the_chain(
        runtime: Runtime, client: TestClient, admin: Account, tmp_path: Path) -> None:
    r = client.post("/api/v1/teams", headers=admin.headers, json={"name": "Payments"})
    team = r.json()["id"]
    r = client.patch(f"/api/v1/teams/{team}", headers=admin.headers,
                     json={"description": "money"})
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/audit", headers=admin.headers,
                   params={"target": "teams", "action": "updated"})
    entries = r.json()["items"]
    assert entries[0]["before"] == {"description": ""}
    assert entries[0]["after"] == {"description": "money"}
    assert entries[0]["actor_id"] == admin.id
    assert client.get("/api/v1/audit/verify", headers=admin.headers).json()["ok"] is True

    url = runtime.settings.effective_database_url
    result = CliRunner().invoke(app, ["audit", "verify"], env={"TOCSIN_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    with runtime.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET after = :a WHERE id = :i"),
                     {"a": '{"description": "nothing"}', "i": entries[0]["id"]})
    result = CliRunner().invoke(app, ["audit", "verify"], env={"TOCSIN_DATABASE_URL": url})
    assert result.exit_code == 1
    assert f"entry {entries[0]['id']}" in result.output
    assert "altered" in result.output


def test_status_page_and_response_target_changes_are_audited(
        client: TestClient, admin: Account) -> None:
    r = client.post("/api/v1/statuspages", headers=admin.headers,
                    json={"slug": "acme", "name": "Acme"})
    assert r.status_code == 201, r.text
    r = client.patch(f"/api/v1/statuspages/{r.json()['id']}", headers=admin.headers,
                     json={"name": "Acme Inc"})
    assert r.status_code == 200, r.text
    [entry] = client.get("/api/v1/audit", headers=admin.headers, params={
        "target": "status_pages", "action": "updated"}).json()["items"]
    assert entry["before"]["name"] == "Acme" and entry["after"]["name"] == "Acme Inc"
    assert entry["actor_id"] == admin.id
    r = client.put("/api/v1/metrics/targets/SEV1", headers=admin.headers,
                   json={"ack_minutes": 3, "first_update_minutes": 10,
                         "resolve_minutes": 120})
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/audit", headers=admin.headers, params={
        "target": "response_targets"}).json()["items"]
