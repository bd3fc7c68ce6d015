"""`tocsin runbook sync DIR` against a real server: every file written, or — when one does
not parse — each bad file listed with its problems and nothing written; then the runbooks
of an incident's service and of its alert's labels show on the incident."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account, drain_intake
from tocsin.runtime import Runtime

GOOD = """---
title: Payments API 5xx
owner: OWNER
review_date: 2027-03-01
services: [payments]
---
# Symptoms
5xx on /charge.
## Diagnostics
1. Check the gateway dashboard.
## Commands
`curl -s gw/health` → `ok`
## Fixes
Pool exhausted: restart the proxy.
## Rollback
`deploy rollback payments`
## Escalation
Page the gateway team after 15 minutes.
"""
BY_LABEL = GOOD.replace("title: Payments API 5xx", "title: Disk full").replace(
    "services: [payments]", "matchers: {alertname: DiskFull}")


def test_sync_writes_all_or_lists_every_bad_file(
        tmp_path: Path, runtime: Runtime, client: TestClient, admin: Account,
        responder: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    pay = client.post("/api/v1/services", headers=admin.headers,
                      json={"name": "payments", "tier": "critical"}).json()
    folder = tmp_path / "runbooks"
    (folder / "storage").mkdir(parents=True)
    (folder / "payments-5xx.md").write_text(GOOD.replace("OWNER", responder.user.email))
    (folder / "storage" / "disk-full.md").write_text(BY_LABEL.replace("OWNER", "nobody@x.io"))
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\n# Symptoms\n")
    (folder / "thin.md").write_text("---\ntitle: Thin\nreview_date: 2027-01-01\n---\n"
                                    "# Symptoms\nslow\n")
    with cli_for(runtime, responder.token, monkeypatch) as cli:
        result = cli.invoke("runbook", "sync", str(folder))
        assert result.exit_code == 1
        out = result.output
        assert "broken.md: front matter is not YAML" in out
        assert "thin.md: missing sections: diagnostics, commands, fixes, rollback, escalation" \
            in out
        assert "storage/disk-full.md: owner: no user with email nobody@x.io" in out
        assert "3 of 4 runbook file(s) did not parse; nothing was written" in out
        assert cli.json("runbook", "list") == []

        (folder / "broken.md").unlink()
        (folder / "thin.md").unlink()
        (folder / "storage" / "disk-full.md").write_text(
            BY_LABEL.replace("OWNER", responder.user.email))
        assert cli.json("runbook", "sync", str(folder)) == {
            "created": ["payments-5xx", "disk-full"], "updated": []}
        again = cli.json("runbook", "sync", str(folder))
        assert again["updated"] == ["payments-5xx", "disk-full"]

    iid = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Charges failing", "severity": "SEV2", "service_ids": [pay["id"]]}).json()["id"]
    shown = client.get(f"/api/v1/incidents/{iid}/runbooks", headers=responder.headers).json()
    assert [r["slug"] for r in shown["items"]] == ["payments-5xx"]
    assert "<h1>Symptoms</h1>" in shown["items"][0]["body_html"]

    integration = client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": pay["id"], "kind": "alertmanager", "name": "am"}).json()
    r = client.post(f"/api/v1/intake/alertmanager/{integration['key']}", json={
        "version": "4", "status": "firing", "receiver": "tocsin", "groupKey": "g",
        "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "host": "db1"},
                    "annotations": {"summary": "disk full on db1"},
                    "startsAt": "2026-01-01T00:00:00Z", "fingerprint": "f1"}]})
    assert r.status_code in (200, 202), r.text
    drain_intake(runtime)
    alerts = client.get("/api/v1/alerts", headers=admin.headers).json()["items"]
    disk_incident = next(a["incident_id"] for a in alerts if a["labels"].get("alertname")
                         == "DiskFull")
    slugs = [r["slug"] for r in client.get(f"/api/v1/incidents/{disk_incident}/runbooks",
                                           headers=responder.headers).json()["items"]]
    assert "disk-full" in slugs
