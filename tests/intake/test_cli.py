"""`tocsin integration create`, `tocsin alert list/show` and `tocsin route dry-run` against
a live server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.cli.helpers import cli_for
from tests.conftest import Account, drain_intake
from tocsin.console import app
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


def test_integration_test_sends_a_working_event_for_every_kind(
        runtime: Runtime, admin: Account, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        cli.run("service", "create", "checkout")
        mapping_file = tmp_path / "mapping.yaml"
        mapping_file.write_text("title: $.check.name\ndedup_key: $.check.id\n"
                                "status: $.check.state\nservice: $.tags[0]\n")
        made = cli.run("integration", "create", "--service", "checkout", "--kind", "generic",
                       "--name", "cron", "--mapping", str(mapping_file))
        assert "/api/v1/intake/generic/" in made and '"check": {"name":' in made
        assert "tocsin integration test 1" in made
        shown = cli.json("integration", "show", "cron")
        assert shown["mapping"]["service"] == "$.tags[0]"
        for kind in ("pagerduty", "opsgenie", "alertmanager", "grafana"):
            cli.json("integration", "create", "--service-id", "1", "--kind", kind,
                     "--name", kind)
        for name in ("cron", "pagerduty", "opsgenie", "alertmanager", "grafana"):
            sent = cli.json("integration", "test", name, "--dedup-key", f"test-{name}")
            assert 200 <= sent["status"] < 300, sent
        tested = cli.run("integration", "test", "cron")
        assert "accepted" in tested and "has no escalation policy" in tested
        drain_intake(runtime)
        alerts = cli.json("alert", "list")
        assert len(alerts) == 6 and {a["summary"] for a in alerts} == {"Test alert from Tocsin"}
        assert {a["integration_id"] for a in alerts} == {1, 2, 3, 4, 5}

        assert "needs --mapping" in cli.fails("integration", "create", "--service", "checkout",
                                              "--kind", "generic", "--name", "x")
        assert "--mapping" in cli.fails("integration", "create", "--service", "checkout",
                                        "--kind", "generic", "--name", "x", "--mapping",
                                        str(tmp_path / "absent.json"))
        assert "mapping: unknown field(s) colour" in cli.fails(
            "integration", "create", "--service", "checkout", "--kind", "generic",
            "--name", "x", "--mapping", '{"title": "t", "colour": "c"}')
        assert "no integration 'nope'" in cli.fails("integration", "test", "nope")
