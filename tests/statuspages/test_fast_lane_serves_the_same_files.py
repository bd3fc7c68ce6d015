"""The served app answers public files from its per-process copy (statuspages/fastlane.py)
with the same bytes and headers as the FastAPI routes, 304s, and a published update within
its revalidation time; other public paths fall through to the app."""

from __future__ import annotations

import time

import httpx
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.intake.conftest import serve
from tests.statuspages.helpers import PUBLIC_FILES, page, public
from tocsin.runtime import Runtime
from tocsin.statuspages.fastlane import REVALIDATE


def test_fast_lane_matches_the_routes_and_sees_updates(client: TestClient, runtime: Runtime,
                                                       admin: Account) -> None:
    p = page(client, admin)
    http = httpx.Client(timeout=60)  # generous: the machine may be busy
    with serve(runtime) as port, http:
        base = f"http://127.0.0.1:{port}/status/acme/"
        for name in PUBLIC_FILES:
            fast, slow = http.get(base + name), public(client, "acme", name)
            assert fast.status_code == 200 and fast.content == slow.content, name
            for header in ("etag", "last-modified", "cache-control", "content-type"):
                assert fast.headers[header] == slow.headers[header], (name, header)
            cached = http.get(base + name, headers={"If-None-Match": fast.headers["etag"]})
            assert cached.status_code == 304 and cached.content == b""
        assert http.head(base).headers["content-length"] == str(len(http.get(base).content))
        assert http.get(base + "missing.json").status_code == 404
        assert http.get(base + "confirm/not-a-token").status_code == 404
        assert http.get(f"http://127.0.0.1:{port}/status/nobody/").status_code == 404

        r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                        json={"title": "Fresh news", "stage": "investigating", "body": "x"})
        assert r.status_code == 201
        deadline = time.monotonic() + REVALIDATE + 5
        while "Fresh news" not in http.get(base).text:
            assert time.monotonic() < deadline
            time.sleep(0.05)
