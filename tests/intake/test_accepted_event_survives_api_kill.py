"""An event answered 202 by a real `tocsin api` process is in the database: SIGKILL the
process before anything triaged it, and a worker still turns it into an alert."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import Account, drain_intake
from tests.intake.conftest import free_port, wait_ready
from tocsin.runtime import Runtime


def test_accepted_events_survive_sigkill(tmp_path: Path, database_url: str, runtime: Runtime,
                                         client: TestClient, admin: Account,
                                         make_integration: Callable[..., dict[str, Any]]
                                         ) -> None:
    key = make_integration("pagerduty")["key"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update({"TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp_path / "api"),
                "TOCSIN_DATABASE_URL": database_url, "TOCSIN_LOG_LEVEL": "WARNING"})
    proc = subprocess.Popen([sys.executable, "-m", "tocsin", "api", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_ready(f"{url}/api/v1/health", proc), "api did not start"
        accepted = []
        for i in range(5):
            r = httpx.post(f"{url}/v2/enqueue", timeout=10, json={
                "routing_key": key, "event_action": "trigger", "dedup_key": f"disk-{i}",
                "payload": {"summary": f"disk {i} full", "source": "db1",
                            "severity": "error"}})
            assert r.status_code == 202, r.text
            accepted.append(r.json()["dedup_key"])
    finally:
        proc.send_signal(signal.SIGKILL)  # no shutdown hook, no flush: the answer was enough
        proc.wait(timeout=30)

    assert client.get("/api/v1/alerts", headers=admin.headers).json()["items"] == []
    assert drain_intake(runtime) == 5  # the worker's job, run after the API died
    alerts = client.get("/api/v1/alerts", headers=admin.headers).json()["items"]
    assert sorted(a["dedup_key"] for a in alerts) == sorted(accepted)
    assert all(a["incident_id"] is not None for a in alerts)
