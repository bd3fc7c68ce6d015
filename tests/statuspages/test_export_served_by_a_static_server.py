"""`tocsin statuspage export DIR` writes the whole page as static files; a plain static
file server (python -m http.server, in its own process) serves them as Tocsin would, and
a second export brings only what changed."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tests.notify.servers import free_port
from tests.statuspages.helpers import PUBLIC_FILES, component, page, public, run_refresh, service
from tocsin.runtime import Runtime


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                             "127.0.0.1", "--directory", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_export_is_served_by_a_plain_static_server(
        client: TestClient, runtime: Runtime, admin: Account, tmp_path: Path,
        make_incident: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    api = service(client, admin, "api")
    p = page(client, admin)
    component(client, admin, p["id"], "API", [api])
    make_incident(severity="SEV2", service_ids=[api])
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                    json={"title": "Slow API", "stage": "investigating", "body": "Looking."})
    assert r.status_code == 201, r.text
    run_refresh(runtime)
    out = tmp_path / "www"
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        written = cli.json("statuspage", "export", "acme", str(out))["written"]
        assert set(PUBLIC_FILES) <= set(written)
        with static_server(out) as url:
            for name in PUBLIC_FILES:
                served = httpx.get(f"{url}/{name}")
                assert served.status_code == 200, name
                assert served.content == public(client, "acme", name).content, name
            home = httpx.get(url + "/")  # the folder's index, as nginx would answer
            assert "Partial outage" in home.text and "Slow API" in home.text
            assert httpx.get(f"{url}/api/v2/summary.json").json()["status"]["indicator"] \
                == "minor"
            feed = feedparser.parse(httpx.get(f"{url}/feed.atom").content)
            assert not feed.bozo and feed.entries[0].title == "Slow API: Investigating"
            # Relative links work from the export's own address.
            assert 'href="feed.rss"' in home.text

            # A change, then the exporter (one --watch round) brings only what changed.
            r = client.post(f"/api/v1/statuspages/{p['id']}/posts/{r.json()['id']}/updates",
                            headers=admin.headers,
                            json={"stage": "resolved", "body": "Fixed."})
            assert r.status_code == 201, r.text
            again = cli.json("statuspage", "export", "acme", str(out), "--watch",
                             "--rounds", "1")["written"]
            assert "index.html" in again and "api/v2/components.json" not in again
            assert "Resolved" in httpx.get(url + "/").text
            assert cli.json("statuspage", "export", "acme", str(out))["written"] == []
