"""`tocsin api --workers 2`: two API processes on one port accept concurrently into the
same inbox (on SQLite they take turns on the write lock), and every 202 is triaged."""

from __future__ import annotations

import asyncio
import os
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


def test_two_api_processes_accept_into_one_inbox(
        tmp_path: Path, database_url: str, runtime: Runtime, client: TestClient,
        admin: Account, make_integration: Callable[..., dict[str, Any]]) -> None:
    key = make_integration("pagerduty")["key"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update({"TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp_path / "api"),
                "TOCSIN_DATABASE_URL": database_url, "TOCSIN_LOG_LEVEL": "WARNING"})
    proc = subprocess.Popen([sys.executable, "-m", "tocsin", "api", "--port", str(port),
                             "--workers", "2"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    async def send() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            return await asyncio.gather(*[c.post("/v2/enqueue", json={
                "routing_key": key, "event_action": "trigger", "dedup_key": f"k{i}",
                "payload": {"summary": f"s{i}", "source": "x", "severity": "info"}})
                for i in range(40)])

    try:
        assert wait_ready(f"{url}/api/v1/health", proc), "api did not start"
        answers = asyncio.run(send())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert [r.status_code for r in answers] == [202] * 40
    assert drain_intake(runtime) == 40
    alerts = client.get("/api/v1/alerts", params={"limit": 100},
                        headers=admin.headers).json()["items"]
    assert sorted(a["dedup_key"] for a in alerts) == sorted(f"k{i}" for i in range(40))
