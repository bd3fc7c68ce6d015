"""`tocsin oncall` against a real server on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.conftest import Account
from tests.intake.conftest import serve
from tocsin.console import app
from tocsin.runtime import Runtime


def test_oncall_now_shifts_and_feed(client: TestClient, runtime: Runtime, admin: Account,
                                    make_account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = make_account(name="Alice")
    sid = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "ops", "time_zone": "Europe/Berlin", "layers": [{
            "name": "weekly", "participants": [alice.id], "unit": "weeks",
            "start": "2026-01-12T09:00:00"}]}).json()["id"]
    runner = CliRunner()
    with serve(runtime) as port:
        monkeypatch.setenv("TOCSIN_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("TOCSIN_TOKEN", admin.token)
        later = runner.invoke(app, ["oncall", "now", "--at", "2026-01-20T10:00:00+01:00"])
        assert later.exit_code == 0, later.output
        assert "Alice" in later.output and "covered" in later.output
        now = runner.invoke(app, ["oncall", "now"])  # the frozen clock: before the start
        assert now.exit_code == 3 and "no one is on call for ops" in now.output
        shifts = runner.invoke(app, ["oncall", "shifts", str(sid), "--start",
                                     "2026-01-10T00:00:00Z", "--end", "2026-01-20T00:00:00Z"])
        assert shifts.exit_code == 0 and "2026-01-12T08:00:00Z" in shifts.output
        assert "no one is on call for schedule ops between" in shifts.output
        feed = runner.invoke(app, ["oncall", "feed", "--schedule", str(sid)])
        assert feed.exit_code == 0 and f"/ical/schedules/{sid}/" in feed.output
