"""`tocsin report` prints the metrics tables from a real server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_report_prints_the_tables(runtime: Runtime, clock: FrozenClock, client: TestClient,
                                  responder: Account, make_incident: Callable[..., Any],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    late = make_incident(severity="SEV1")
    clock.advance(minutes=9)
    client.post(f"/api/v1/incidents/{late['id']}/acknowledge", headers=responder.headers)
    with cli_for(runtime, responder.token, monkeypatch) as cli:
        out = cli.run("report", "--by", "severity")
        data = cli.json("report", "--period", "month")
    lines = out.splitlines()
    assert lines[1].split()[:5] == ["GROUP", "INCIDENTS", "MTTA_MEAN", "MTTA_MEDIAN",
                                    "MTTA_P90"]
    assert lines[2].split()[:4] == ["SEV1", "1", "9m", "00s"]
    assert f"missed a target: {late['number']}" in out
    assert "Rui Responder" in out
    assert data["incidents"]["rows"][0]["mtta"]["median"] == 540.0
    assert {r["measure"] for r in data["compliance"]["rows"]} == {"ack", "update", "resolve"}
