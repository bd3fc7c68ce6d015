"""The `tocsin check`, `tocsin heartbeat` and `tocsin probes` commands against a live server."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.probe.conftest import LiveServer, live_server  # noqa: F401 - fixture
from tocsin.console import app


@pytest.fixture
def cli(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> CliRunner:  # noqa: F811
    monkeypatch.setenv("TOCSIN_URL", live_server.url)
    monkeypatch.setenv("TOCSIN_TOKEN", live_server.admin.token)
    return CliRunner()


def test_manage_checks_from_the_command_line(cli: CliRunner, live_server: LiveServer,  # noqa: F811
                                             tmp_path: Path) -> None:
    with live_server.api() as api:
        service = api.post("/api/v1/services", json={"name": "checkout"}).json()
    r = cli.invoke(app, ["check", "create", "shop", "--kind", "http", "--service",
                         str(service["id"]), "--config", '{"url": "https://shop.example.com/"}',
                         "--interval", "30", "--timeout", "5", "--json"])
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["check", "create", "bad", "--kind", "http", "--service",
                         str(service["id"]), "--config", '{"url": "nope"}'])
    assert r.exit_code == 1 and "not an http:// or https:// URL" in r.output
    r = cli.invoke(app, ["check", "list"])
    assert r.exit_code == 0 and "shop" in r.output and "unknown" in r.output
    exported = cli.invoke(app, ["check", "export"])
    assert exported.exit_code == 0 and "name: shop" in exported.output
    path = tmp_path / "checks.yaml"
    path.write_text(exported.output.replace("interval_seconds: 30", "interval_seconds: 45"))
    r = cli.invoke(app, ["check", "import", str(path)])
    assert r.exit_code == 0 and "created 0, updated 1" in r.output
    r = cli.invoke(app, ["heartbeat", "create", "nightly", "--service", str(service["id"]),
                         "--cron", "0 3 * * *", "--time-zone", "Europe/Paris", "--json"])
    assert r.exit_code == 0 and "/ping/" in r.output
    r = cli.invoke(app, ["probes", "add", "eu-west"])
    assert r.exit_code == 0 and r.output.startswith("tprobe_")
    r = cli.invoke(app, ["probes", "list"])
    assert "eu-west" in r.output and "offline" in r.output
