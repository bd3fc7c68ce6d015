"""`tocsin integration create`, `tocsin alert list/show` and `tocsin route dry-run` against
a live server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import Account, drain_intake
from tocsin.cli.main import app
from tocsin.runtime import Runtime


def test_cli_creates_integration_lists_alerts_and_dry_runs(
        live_url: str, admin: Account, client: TestClient, runtime: Runtime,
        monkeypatch: pytest.MonkeyPatch,
        make_service: Callable[..., dict[str, Any]]) -> None:
    monkeypatch.setenv("TOCSIN_URL", live_url)
    monkeypatch.setenv("TOCSIN_TOKEN", admin.token)
    runner = CliRunner()
    service = make_service(name="web")
    out = runner.invoke(app, ["integration", "create", "--service-id", str(service["id"]),
                              "--kind", "alertmanager", "--name", "prom", "--json"])
    assert out.exit_code == 0, out.output
    integration = json.loads(out.output)
    assert "webhook_configs" in integration["examples"]["alertmanager_yaml"]
    r = client.post(f"/api/v1/intake/alertmanager/{integration['key']}", json={
        "alerts": [{"status": "firing", "labels": {"alertname": "Down", "severity": "critical"},
                    "annotations": {"summary": "web down"}, "fingerprint": "fp1"}]})
    assert r.status_code == 200, r.text
    drain_intake(runtime)

    listed = runner.invoke(app, ["alert", "list"])
    assert listed.exit_code == 0 and "web down" in listed.output and "SEV1" in listed.output
    shown = runner.invoke(app, ["alert", "show", "1", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["events"][0]["outcome"] == "created"

    tried = runner.invoke(app, ["route", "dry-run", "--service-id", str(service["id"]),
                                "--severity", "warning", "--label", "env=prod", "--json"])
    assert tried.exit_code == 0, tried.output
    decision = json.loads(tried.output)
    assert decision["matched_rule_id"] is None and decision["severity"] == "SEV3"
    bad = runner.invoke(app, ["route", "dry-run", "--label", "oops"])
    assert bad.exit_code != 0
