"""A real Tocsin server (uvicorn on loopback) and probe agents as separate processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.conftest import Account
from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import UserCreate
from tocsin.app import create_app
from tocsin.clock import SystemClock
from tocsin.principal import Role
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    admin: Account

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.admin.headers, timeout=10)


@pytest.fixture
def live_server(make_settings: Callable[..., Settings], database_url: str,
                tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(database_url=database_url, check_interval_floor_seconds=1,
                             probe_offline_seconds=3)
    runtime = build_runtime(settings, SystemClock())
    with runtime.sessions() as session, session.begin():
        user = accounts.create_user(session, data=UserCreate(
            name="Ops Admin", email="ops@example.com", role=Role.ADMIN, time_zone="UTC",
            password="correct horse battery"), now=runtime.clock.now())
        _key, token = accounts.create_api_key(session, owner=user, name="t", scope=None,
                                              now=runtime.clock.now())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield LiveServer(f"http://127.0.0.1:{port}", runtime, Account(user=user, token=token))
    server.should_exit = True
    thread.join(30)
    runtime.close()


@pytest.fixture
def spawn_probe(live_server: LiveServer,
                tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(name: str, source_address: str | None = None) -> subprocess.Popen[bytes]:
        with live_server.api() as api:
            r = api.post("/api/v1/probes", json={"name": name})
            assert r.status_code == 201, r.text
            token = r.json()["token"]
        args = [sys.executable, "-m", "tocsin", "probe", "--server", live_server.url,
                "--token", token, "--location", name, "--refresh", "1"]
        if source_address:
            args += ["--source-address", source_address]
        log = open(tmp_path / f"probe-{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        procs.append(proc)
        return proc

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
