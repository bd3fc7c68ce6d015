"""`tocsin schedule create|list|show` against a real server: a rotation of people named by
email, with its shift length, handoff time and zone; or any schedule from a file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_schedule_rotation_by_email_then_listed_shown_and_asked(
        runtime: Runtime, admin: Account, tmp_path: Path,
        make_account: Callable[..., Account], monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        made = cli.json("schedule", "create", "payments", "-u", alice.user.email, "-u",
                        bob.user.email, "--tz", "Europe/Berlin", "--shift", "12h",
                        "--start", "2026-01-05T09:00", "--layer", "primary")
        assert made["time_zone"] == "Europe/Berlin"
        assert made["layers"] == [{
            "name": "primary", "participants": [alice.id, bob.id], "unit": "hours",
            "length": 12, "start": "2026-01-05T09:00:00", "restrictions": []}]
        shown = cli.run("schedule", "show", "payments")
        assert f"{alice.user.email}, {bob.user.email}" in shown and "12 hours" in shown

        today = cli.json("schedule", "create", "nights", "-u", "me", "--tz", "Asia/Tokyo",
                         "--shift", "1d", "--start", "21:30")
        start = datetime.fromisoformat(today["layers"][0]["start"])
        assert start.time().isoformat() == "21:30:00" and today["layers"][0]["unit"] == "days"
        assert abs((start.date() - datetime.now(ZoneInfo("Asia/Tokyo")).date()).days) <= 1

        layers_file = tmp_path / "weekend.yaml"
        layers_file.write_text(
            "time_zone: UTC\nlayers:\n"
            f"  - name: weekend\n    participants: [{bob.user.email}, me]\n"
            "    unit: days\n    start: '2026-01-03T08:00:00'\n"
            "    restrictions: [{days: [5, 6], start: '08:00', end: '20:00'}]\n")
        weekend = cli.json("schedule", "create", "weekend", "--from-file", str(layers_file))
        assert weekend["name"] == "weekend"
        assert weekend["layers"][0]["participants"] == [bob.id, admin.id]
        assert weekend["layers"][0]["restrictions"][0]["days"] == [5, 6]

        listed = cli.json("schedule", "list")
        assert [s["name"] for s in listed] == ["payments", "nights", "weekend"]
        assert "payments" in cli.run("schedule", "list")
        on_call = cli.json("oncall", "now", "--schedule", "payments",
                           "--at", "2026-01-05T22:00:00+01:00")
        assert on_call[0]["user_id"] == bob.id  # second 12-hour shift: 21:00 on
        assert "/ical/schedules/" in cli.run("oncall", "feed", "--schedule", "payments")

        assert "1w or 12h" in cli.fails("schedule", "create", "x", "-u", "me",
                                        "--shift", "fortnight")
        assert "09:00" in cli.fails("schedule", "create", "x", "-u", "me", "--start", "9 am")
        assert "--user" in cli.fails("schedule", "create", "x")
        assert "unknown time zone" in cli.fails("schedule", "create", "x", "-u", "me",
                                                "--tz", "Mars/Base")
        assert "no user with email ghost@example.com" in cli.fails(
            "schedule", "create", "x", "-u", "ghost@example.com")
