"""`TOCSIN_STATUSPAGE_PORT`: the status listener starts and stops with `tocsin serve` (and with
each process of `tocsin api --workers N`, sharing the port), and a port already taken stops
the server at startup with a message naming it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_serve_and_cli import _env, _free_port
from tests.cli.test_serve_tls_and_proxy import serving
from tests.conftest import STARTUP_SECONDS

pytestmark = pytest.mark.slow


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except OSError:
        return True


def test_listener_starts_and_stops_with_serve(tmp_path: Path) -> None:
    status_port = _free_port()
    env = _env(tmp_path, TOCSIN_STATUSPAGE_PORT=str(status_port), TOCSIN_ENV="dev")
    with serving(tmp_path, env=env) as (url, token, _printed):
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
        assert api.post("/api/v1/statuspages",
                        json={"slug": "acme", "name": "Acme"}).status_code == 201
        main = httpx.get(f"{url}/status/acme/api/v2/summary.json")
        mine = httpx.get(f"http://127.0.0.1:{status_port}/status/acme/api/v2/summary.json")
        assert mine.status_code == 200 and mine.content == main.content
        assert httpx.get(f"http://127.0.0.1:{status_port}/api/v1/health").status_code == 404
        api.close()
    assert _refused(status_port)  # stopped with the server


def test_serve_refuses_to_start_when_the_status_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(_free_port())],
            env=_env(tmp_path, TOCSIN_STATUSPAGE_PORT=str(port), TOCSIN_ENV="dev"),
            capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert proc.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stdout + proc.stderr


def test_api_workers_share_the_status_port(tmp_path: Path) -> None:
    port, status_port = _free_port(), _free_port()
    data = tmp_path / "data"
    env = _env(tmp_path, TOCSIN_ENV="dev", TOCSIN_STATUSPAGE_PORT=str(status_port))
    # The first `serve` creates the database and the admin; `api` needs a migrated schema.
    with serving(tmp_path, env=env) as (url, token, _printed):
        httpx.post(f"{url}/api/v1/statuspages", json={"slug": "acme", "name": "Acme"},
                   headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
    proc = subprocess.Popen([sys.executable, "-m", "tocsin", "api", "--port", str(port),
                             "--workers", "2", "--data-dir", str(data)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while _refused(status_port) or _refused(port):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(1)  # the second process may bind a moment after the first
        answers = [httpx.get(f"http://127.0.0.1:{status_port}/status/acme/", timeout=30)
                   for _ in range(20)]  # a new connection each: spread over both
        assert {r.status_code for r in answers} == {200}
        assert os.path.exists(data)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert _refused(status_port)
