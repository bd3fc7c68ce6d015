"""`tocsin serve` speaks HTTPS itself (--tls-cert/--tls-key), so the official PagerDuty
client, which refuses plain http, can send to it; behind a proxy, forwarded headers are
believed from the proxies named in TOCSIN_FORWARDED_ALLOW_IPS only."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pagerduty
import pytest

from tests.cli.test_serve_and_cli import _env, _free_port
from tests.conftest import STARTUP_SECONDS
from tests.intake.conftest import make_cert

pytestmark = pytest.mark.slow


@contextmanager
def serving(tmp_path: Path, *args: str, scheme: str = "http",
            verify: ssl.SSLContext | bool = True,
            env: dict[str, str] | None = None) -> Iterator[tuple[str, str, str]]:
    """`tocsin serve` with `args`; yields (url, admin token, what it printed)."""
    port = _free_port()
    out = tmp_path / f"serve-{port}.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tocsin", "serve", "--port", str(port), "--data-dir",
         str(tmp_path / "data"), *args], env=env or _env(tmp_path), stdout=out.open("w"),
        stderr=subprocess.STDOUT, text=True)
    url = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1, verify=verify).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise AssertionError(out.read_text())
        printed = out.read_text()
        token = next(line.split()[-1] for line in printed.splitlines() if "API key:" in line)
        yield url, token, printed
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_over_tls_takes_events_from_the_official_pagerduty_client(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    with serving(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key), scheme="https",
                 verify=trust) as (url, token, printed), ExitStack() as closing:
        assert f"listening on {url}" in printed
        with pytest.raises(httpx.HTTPError):  # plain http on the TLS port gets nowhere
            httpx.get(url.replace("https://", "http://") + "/api/v1/health", timeout=3)
        api = httpx.Client(base_url=url, verify=trust,
                           headers={"Authorization": f"Bearer {token}"})
        closing.callback(api.close)
        service = api.post("/api/v1/services", json={"name": "payments"}).json()
        integration = api.post("/api/v1/integrations", json={
            "service_id": service["id"], "kind": "pagerduty", "name": "PD"}).json()
        events = pagerduty.EventsApiV2Client(integration["key"], base_url=url, verify=trust)
        closing.callback(events.close)
        assert events.trigger("Disk full on db1", "db1", dedup_key="disk-db1") == "disk-db1"
        deadline = time.monotonic() + 30
        alerts: list[dict[str, object]] = []
        while not alerts and time.monotonic() < deadline:
            alerts = api.get("/api/v1/alerts").json()["items"]
            time.sleep(0.1)
        assert [a["summary"] for a in alerts] == ["Disk full on db1"]


def test_serve_over_tls_stops_promptly_with_an_idle_client_connected(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    with ExitStack() as closing:
        idle = httpx.Client(verify=trust)  # keeps its connection open, never answers a close
        closing.callback(idle.close)
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(port), "--data-dir",
             str(tmp_path / "data"), "--tls-cert", str(cert), "--tls-key", str(key)],
            env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        closing.callback(proc.kill)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                idle.get(f"https://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        began = time.monotonic()
        proc.terminate()
        proc.wait(timeout=60)
        # 33 s before the shutdown was bounded (asyncio's SSL close timeout); 5 s now.
        assert time.monotonic() - began < 20


def test_tls_needs_both_files_and_says_so(tmp_path: Path) -> None:
    cert, _key = make_cert(tmp_path)
    done = subprocess.run([sys.executable, "-m", "tocsin", "serve", "--data-dir",
                           str(tmp_path / "data"), "--tls-cert", str(cert)],
                          env=_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "tls_cert_file and tls_key_file go together" in done.stderr


def _slash_redirect(url: str, **headers: str) -> str:
    # A path with a trailing slash is redirected by the router to an absolute URL built from
    # the request's scheme and host: what a proxy's X-Forwarded-Proto must change.
    # Generous timeout: the first request a fresh server's app answers (not the fast lane)
    # took 3.6 s on the base branch and 5.3 s with status pages on a busy machine.
    r = httpx.get(f"{url}/api/v1/health/", headers=headers, follow_redirects=False,
                  timeout=60)
    assert r.status_code in (307, 308), r.status_code
    return r.headers["location"]


def test_forwarded_proto_is_believed_from_a_named_proxy_only(tmp_path: Path) -> None:
    with serving(tmp_path) as (url, _token, _printed):
        # Loopback is the default trusted proxy (a proxy on the same host).
        assert _slash_redirect(url, **{"X-Forwarded-Proto": "https"}).startswith("https://")
        assert _slash_redirect(url).startswith("http://")
    second = tmp_path / "second"
    second.mkdir()
    elsewhere = _env(second, TOCSIN_FORWARDED_ALLOW_IPS="192.0.2.10")
    with serving(second, env=elsewhere) as (url, _token, _printed):
        assert _slash_redirect(url, **{"X-Forwarded-Proto": "https"}).startswith("http://")
