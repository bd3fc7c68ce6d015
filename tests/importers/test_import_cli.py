"""`tocsin import opsgenie` as an operator runs it: dry run, real run, re-run, against the
loopback stand-in, on the test database, with the real clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.importers.conftest import KEY, anchor_for
from tests.importers.opsgenie_account import build
from tests.importers.opsgenie_standin import serve
from tocsin.console import app


def test_dry_run_then_import_then_rerun_from_the_command_line(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_DATABASE_URL", database_url)
    monkeypatch.setenv("TOCSIN_ENV", "dev")
    monkeypatch.setenv("OPSGENIE_API_KEY", KEY)
    account = build(KEY, anchor_for(datetime.now(UTC)))
    runner = CliRunner()
    with serve(account) as url:
        args = ["import", "opsgenie", "--base-url", url, "--data-dir", str(tmp_path)]
        dry = runner.invoke(app, [*args, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "create schedule    Platform weekly" in dry.output
        assert "dry run, nothing written: " in dry.output and "to create" in dry.output
        assert "not mapped one to one" in dry.output and "type Datadog" in dry.output

        real = runner.invoke(app, args)
        assert real.exit_code == 0, real.output
        assert "Payments API (API): " in real.output and "/v2/alerts  key " in real.output
        assert "hour by hour: 0 difference(s)" in real.output

        again = runner.invoke(app, args)
        assert again.exit_code == 0, again.output
        assert "\n0 created, 0 changed, " in again.output

        refused = runner.invoke(app, [*args, "--api-key", "wrong"])
        assert refused.exit_code == 1 and "refused the API key" in refused.output


def test_pagerduty_from_the_command_line(database_url: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.importers import pagerduty_account, pagerduty_standin

    monkeypatch.setenv("TOCSIN_DATABASE_URL", database_url)
    monkeypatch.setenv("TOCSIN_ENV", "dev")
    account = pagerduty_account.build("tok-123", anchor_for(datetime.now(UTC)))
    with pagerduty_standin.serve(account, tmp_path) as (url, cert):
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the stand-in's certificate
        args = ["import", "pagerduty", "--token", "tok-123", "--base-url", url,
                "--data-dir", str(tmp_path)]
        dry = CliRunner().invoke(app, [*args, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "create schedule    Edge weekend" in dry.output
        real = CliRunner().invoke(app, args)
        assert real.exit_code == 0, real.output
        assert "Events v2 (events_api_v2_inbound_integration): " in real.output
        assert "/v2/enqueue  key " in real.output
        assert "hour by hour: 0 difference(s)" in real.output
        again = CliRunner().invoke(app, args)
        assert "\n0 created, 0 changed, " in again.output
