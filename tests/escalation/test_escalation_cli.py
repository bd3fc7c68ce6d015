"""`tocsin escalation list|create|show` against a real server: levels written with emails
and names, or read from a YAML file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_escalation_levels_by_email_schedule_and_team(
        runtime: Runtime, admin: Account, client: TestClient, tmp_path: Path,
        make_account: Callable[..., Account], monkeypatch: pytest.MonkeyPatch) -> None:
    alice = make_account(name="Alice")
    team = client.post("/api/v1/teams", headers=admin.headers,
                       json={"name": "sre", "member_ids": [alice.id]}).json()
    schedule = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "ops", "time_zone": "UTC", "layers": [{
            "name": "weekly", "participants": [alice.id], "start": "2026-01-05T09:00:00"}]}
    ).json()
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        made = cli.json("escalation", "create", "sev1", "--level", "10:schedule:ops",
                        "--level", f"{alice.user.email}, team:sre:round_robin, me",
                        "--wait", "7", "--repeat", "1", "--description", "wake everyone")
        assert made["repeat"] == 1 and made["description"] == "wake everyone"
        assert made["levels"] == [
            {"delay_minutes": 10, "targets": [
                {"kind": "schedule", "id": schedule["id"], "mode": "all"}]},
            {"delay_minutes": 7, "targets": [
                {"kind": "user", "id": alice.id, "mode": "all"},
                {"kind": "team", "id": team["id"], "mode": "round_robin"},
                {"kind": "user", "id": admin.id, "mode": "all"}]}]

        shown = cli.run("escalation", "show", "sev1")
        assert "schedule:ops" in shown and "team:sre:round_robin" in shown
        assert alice.user.email in shown and admin.user.email in shown
        assert cli.json("escalation", "show", str(made["id"]))["levels"] == made["levels"]

        policy_file = tmp_path / "policy.yaml"
        policy_file.write_text(
            "name: daytime\nrepeat: 0\nlevels:\n"
            "  - delay_minutes: 30\n    targets: [me, {schedule: ops}]\n"
            f"  - '5:{alice.user.email}'\n"
            "  - delay_minutes: 0\n    targets: [{kind: team, id: sre, mode: round_robin}]\n")
        from_file = cli.json("escalation", "create", "--from-file", str(policy_file))
        assert from_file["name"] == "daytime"
        assert [lv["delay_minutes"] for lv in from_file["levels"]] == [30, 5, 0]
        assert from_file["levels"][0]["targets"][1] == {"kind": "schedule",
                                                        "id": schedule["id"], "mode": "all"}
        assert from_file["levels"][2]["targets"] == [{"kind": "team", "id": team["id"],
                                                      "mode": "round_robin"}]

        changed = cli.json("escalation", "update", "daytime", "-l", "me", "-l",
                           "20:schedule:ops", "--wait", "3", "--repeat", "2")
        assert changed["name"] == "daytime" and changed["repeat"] == 2
        assert [lv["delay_minutes"] for lv in changed["levels"]] == [3, 20]
        renamed = cli.json("escalation", "update", str(from_file["id"]), "--name", "days",
                           "--description", "office hours")
        assert renamed["levels"] == changed["levels"] and renamed["repeat"] == 2
        assert "office hours" in cli.run("escalation", "show", "days")
        cli.run("escalation", "update", "days", "--name", "daytime")

        listed = cli.run("escalation", "list")
        assert "sev1" in listed and "daytime" in listed and "schedule:ops ->" in listed
        assert [p["name"] for p in cli.json("escalation", "list")] == ["sev1", "daytime"]

        assert "no user with email nobody@example.com" in cli.fails(
            "escalation", "create", "x", "--level", "nobody@example.com")
        assert "no schedule 'nights'" in cli.fails("escalation", "create", "x", "-l",
                                                    "schedule:nights")
        assert "--level" in cli.fails("escalation", "create", "x")
        assert "no escalation policy 'gone'" in cli.fails("escalation", "show", "gone")
        # The server's own checks come back as one line too (a repeat with no delay).
        assert "422" in cli.fails("escalation", "create", "loop", "-l", "0:me", "--repeat", "2")
