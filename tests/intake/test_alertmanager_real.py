"""A real Prometheus Alertmanager, configured with a webhook receiver pointing at Tocsin:
alerts posted to Alertmanager become Tocsin alerts and one incident each, and their
resolution (sent by Alertmanager with send_resolved) resolves them."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account, drain_intake
from tests.intake.conftest import free_port, wait_ready
from tocsin.runtime import Runtime

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


CONFIG = """
route:
  receiver: tocsin
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: '{url}'
        send_resolved: true
"""


@pytest.fixture
def alertmanager(tmp_path: Path, live_url: str, make_integration: Callable[..., Any]
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    if BINARY is None:
        pytest.skip("prometheus-alertmanager is not installed (apt-get install "
                    "prometheus-alertmanager; see .ci/install-system-deps)")
    integration = make_integration("alertmanager")
    assert integration["url"].endswith(f"/api/v1/intake/alertmanager/{integration['key']}")
    webhook = f"{live_url}/api/v1/intake/alertmanager/{integration['key']}"
    (tmp_path / "am.yml").write_text(CONFIG.format(url=webhook))
    port = free_port()
    proc = subprocess.Popen(
        [BINARY, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "am.log").open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_ready(f"{url}/-/ready", proc):
            pytest.fail("alertmanager did not start: " + (tmp_path / "am.log").read_text())
        yield url, integration
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_alertmanager_alerts_become_incidents_and_resolve(
        alertmanager: tuple[str, dict[str, Any]], client: TestClient, admin: Account,
        runtime: Runtime) -> None:
    am_url, integration = alertmanager
    starts = datetime.now(UTC) - timedelta(minutes=1)
    alerts = [{"labels": {"alertname": "HighErrorRate", "instance": f"web{i}",
                          "severity": "critical"},
               "annotations": {"summary": f"5xx above 10% on web{i}"},
               "startsAt": starts.isoformat(), "generatorURL": "http://prometheus/graph"}
              for i in (1, 2)]
    r = httpx.post(f"{am_url}/api/v2/alerts", json=alerts, timeout=5)
    assert r.status_code == 200, r.text

    def firing() -> list[dict[str, Any]]:
        drain_intake(runtime)  # the worker's job; this test runs no worker
        items: list[dict[str, Any]] = client.get(
            "/api/v1/alerts", params={"integration_id": integration["id"]},
            headers=admin.headers).json()["items"]
        return items if len(items) == 2 else []

    items = wait_for(firing)
    assert {a["labels"]["instance"] for a in items} == {"web1", "web2"}
    assert all(a["status"] == "firing" and a["severity"] == "SEV1" for a in items)
    incident_ids = {a["incident_id"] for a in items}
    assert len(incident_ids) == 2 and None not in incident_ids  # one incident per alert

    ended = datetime.now(UTC)
    for a in alerts:
        a["endsAt"] = ended.isoformat()
    assert httpx.post(f"{am_url}/api/v2/alerts", json=alerts, timeout=5).status_code == 200

    def resolved() -> bool:
        drain_intake(runtime)
        items = client.get("/api/v1/alerts", params={"integration_id": integration["id"]},
                           headers=admin.headers).json()["items"]
        return all(a["status"] == "resolved" for a in items)

    wait_for(resolved)
    for iid in incident_ids:
        incident = client.get(f"/api/v1/incidents/{iid}", headers=admin.headers).json()
        assert incident["status"] == "resolved"
