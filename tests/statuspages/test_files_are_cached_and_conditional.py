"""Public files are rendered on change, not per request, and answer conditional requests
with 304."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.statuspages.helpers import PUBLIC_FILES, page, public
from tocsin.runtime import Runtime


def test_every_file_has_validators_and_answers_304_until_it_changes(
        client: TestClient, runtime: Runtime, admin: Account) -> None:
    p = page(client, admin)
    etags = {}
    for name in PUBLIC_FILES:
        r = public(client, "acme", name)
        assert r.headers["Cache-Control"].startswith("public, max-age=")
        assert r.headers["Last-Modified"].endswith("GMT")
        etags[name] = r.headers["ETag"]
        again = client.get(f"/status/acme/{name}", headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and again.content == b""
        since = client.get(f"/status/acme/{name}",
                           headers={"If-Modified-Since": r.headers["Last-Modified"]})
        assert since.status_code == 304
    assert client.get("/status/acme/nothing.txt").status_code == 404
    assert client.get("/status/nobody/").status_code == 404

    runtime.clock.advance(seconds=5)  # type: ignore[attr-defined]
    r = client.patch(f"/api/v1/statuspages/{p['id']}", headers=admin.headers,
                     json={"name": "Acme Cloud"})
    assert r.status_code == 200, r.text
    r = client.get("/status/acme/", headers={"If-None-Match": etags["index.html"]})
    assert r.status_code == 200 and "Acme Cloud" in r.text
    assert r.headers["ETag"] != etags["index.html"]


def test_reading_the_page_writes_nothing(client: TestClient, runtime: Runtime,
                                         admin: Account) -> None:
    page(client, admin)
    from sqlalchemy import select

    from tocsin.statuspages.models import StatusRender
    with runtime.read_sessions() as s:
        before = {(r.name, r.etag, r.rendered_at) for r in s.scalars(select(StatusRender))}
    for _ in range(3):
        public(client, "acme")
        public(client, "acme", "api/v2/summary.json")
    with runtime.read_sessions() as s:
        after = {(r.name, r.etag, r.rendered_at) for r in s.scalars(select(StatusRender))}
    assert before == after and len(before) >= len(PUBLIC_FILES)
