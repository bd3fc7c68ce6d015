"""`tocsin service list|create|show|update` against a real server: names instead of ids,
the escalation policy per severity, and errors as one line."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_service_commands_name_teams_dependencies_and_policies(
        runtime: Runtime, admin: Account, client: TestClient,
        make_account: Callable[..., Account], monkeypatch: pytest.MonkeyPatch) -> None:
    team = client.post("/api/v1/teams", headers=admin.headers,
                       json={"name": "payments"}).json()
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        cli.run("escalation", "create", "primary", "--level", "me")
        cli.run("escalation", "create", "daytime", "--level", "me")
        db = cli.json("service", "create", "db", "--tier", "high")
        assert db["escalation_policies"] == {}
        assert "NONE - incidents of this service page nobody" in cli.run("service", "show", "db")
        checkout = cli.json("service", "create", "checkout", "--tier", "critical", "--revenue",
                            "--team", "payments", "--depends-on", "db", "--description",
                            "the shop's till", "-p", "primary")
        assert checkout["tier"] == "critical" and checkout["revenue"] is True
        assert checkout["owner_team_id"] == team["id"] and checkout["depends_on"] == [db["id"]]
        assert checkout["escalation_policies"] == dict.fromkeys(
            ["SEV1", "SEV2", "SEV3", "SEV4"], "primary")

        updated = cli.json("service", "update", "checkout", "--tier", "medium",
                           "-p", "SEV1=primary", "-p", "SEV3=daytime")
        assert updated["tier"] == "medium" and updated["revenue"] is True
        assert updated["owner_team_id"] == team["id"]  # options not given stay as they were
        assert updated["escalation_policies"] == {"SEV1": "primary", "SEV3": "daytime"}
        renamed = cli.json("service", "update", str(checkout["id"]), "--name", "shop",
                           "--no-revenue")
        assert renamed["name"] == "shop" and renamed["revenue"] is False
        assert renamed["escalation_policies"] == {"SEV1": "primary", "SEV3": "daytime"}

        listed = cli.run("service", "list")
        assert listed.splitlines()[0].split()[:3] == ["ID", "NAME", "TIER"]
        assert "shop" in listed and "db" in listed
        assert [s["name"] for s in cli.json("service", "list")] == ["db", "shop"]
        shown = cli.run("service", "show", "shop")
        assert "SEV1: primary, SEV3: daytime" in shown

        assert "no escalation policy 'nightly'" in cli.fails("service", "update", "shop", "-p",
                                                             "nightly")
        assert "no service 'nope'" in cli.fails("service", "show", "nope")
        assert "SEV1, SEV2" in cli.fails("service", "update", "shop", "-p", "SEV9=primary")
        assert "tier" in cli.fails("service", "create", "x", "--tier", "enormous")

    responder = make_account("responder")
    with cli_for(runtime, responder.token, monkeypatch) as cli:
        assert "403" in cli.fails("service", "create", "mine")
