"""`tocsin audit list` against a real server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_audit_list_shows_changes(runtime: Runtime, client: TestClient, admin: Account,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    client.post("/api/v1/teams", headers=admin.headers, json={"name": "Payments"})
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        entries = cli.json("audit", "list", "--target", "teams")
        assert [(e["action"], e["after"]["name"]) for e in entries] == [("created", "Payments")]
        assert "created" in cli.run("audit", "list", "--action", "created")
