"""A game day from a shell: `tocsin drill scenario`, `scenarios`, `start`, `finish` (refused
while the drill's incident is open, with the reason) and `report`, against a live server."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_drill_runs_from_the_cli(runtime: Runtime, client: TestClient,
                                 make_account: Callable[..., Account],
                                 clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    lead = make_account(name="Lena Lead")
    with cli_for(runtime, lead.token, monkeypatch) as cli:
        made = cli.json("drill", "scenario", "db failover", "--alert",
                        "Primary database unreachable", "--severity", "sev1")
        assert (made["name"], made["severity"]) == ("db failover", "SEV1")
        listed = cli.run("drill", "scenarios")
        assert "db failover" in listed and "Primary database unreachable" in listed

        drill = cli.json("drill", "start", str(made["id"]), "--participant", "me")
        assert (drill["participant_ids"], drill["status"]) == ([lead.id], "running")
        assert "resolve the drill incident first" in cli.fails(
            "drill", "finish", str(drill["id"]))

        iid = drill["incident_id"]
        client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=lead.headers)
        clock.advance(minutes=20)
        client.post(f"/api/v1/incidents/{iid}/resolve", headers=lead.headers, json={})
        done = cli.json("drill", "finish", str(drill["id"]))
        assert done["status"] == "finished" and done["finished_at"] is not None
        # Acknowledged the same second it began: 0 s, met (not shown as missing); never
        # updated: missed; resolved after 20 min, within SEV1's target.
        assert {line["measure"]: (line["took_seconds"], line["met"])
                for line in done["report"]} == {
            "acknowledge": (0.0, True), "first_update": (None, False),
            "resolve": (1200.0, True)}
        rows = cli.run("drill", "report", str(drill["id"])).splitlines()
        assert rows[0].split() == ["MEASURE", "TOOK_SECONDS", "TARGET_SECONDS", "MET"]
        assert rows[1].split() == ["acknowledge", "0.0", "300.0", "True"]
