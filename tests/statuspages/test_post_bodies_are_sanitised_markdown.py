"""Update bodies are Markdown: the page, the RSS and Atom feeds, the static export and the
editor's preview carry them rendered and sanitised (no script, no event handler, no
`javascript:` or `data:` link, raw HTML shown as text); the JSON files keep the Markdown
text, as Statuspage keeps plain text. Maintenance post bodies too."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tests.statuspages.helpers import component, page, public, service
from tests.web.conftest import web_login
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime

HOSTILE = """**Fixed** the [status page](https://example.com/status) and *most* errors.

- a list item
- [a bad link](javascript:window.pwned=1)

<script>window.pwned = 2</script>
<img src=x onerror="window.pwned=3">
<a href="javascript:window.pwned=4" onclick="window.pwned=5">raw link</a>
[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
"""


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe(html: str) -> None:
    """No element or attribute that could run code, whatever the markup."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "object", "embed", "img", "svg"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src", "action"):
                assert not (value or "").strip().lower().startswith(("javascript:", "data:")), \
                    (tag, name, value)


def assert_rendered(html: str) -> None:
    assert_safe(html)
    assert "<strong>Fixed</strong>" in html and "<em>most</em>" in html
    assert "<li>a list item</li>" in html
    assert 'href="https://example.com/status"' in html
    assert "&lt;script&gt;" in html  # raw HTML is shown as text, not run


def _hostile_post(client: TestClient, admin: Account) -> dict[str, Any]:
    api = service(client, admin, "api")
    p = page(client, admin)
    cid = component(client, admin, p["id"], "API", [api])
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                    json={"title": "Errors <b>on</b> checkout", "stage": "investigating",
                          "body": HOSTILE, "component_ids": [cid]})
    assert r.status_code == 201, r.text
    return p


def _feed_html(feed: bytes) -> list[str]:
    root = ET.fromstring(feed)
    rss = [e.text or "" for e in root.iter("description")][1:]  # [0] is the channel's
    atom = [e.text or "" for e in root.iter("{http://www.w3.org/2005/Atom}content")]
    if atom:
        assert {e.get("type") for e in root.iter("{http://www.w3.org/2005/Atom}content")} \
            == {"html"}
    return rss + atom


def test_every_format_renders_the_markdown_safely(client: TestClient, admin: Account) -> None:
    _hostile_post(client, admin)
    index = public(client, "acme").text
    assert_rendered(index)
    assert "Errors &lt;b&gt;on&lt;/b&gt; checkout" in index  # titles stay text
    for feed in ("feed.rss", "feed.atom"):
        [body] = _feed_html(public(client, "acme", feed).content)
        assert_rendered(body)
    incidents = public(client, "acme", "api/v2/incidents.json").json()["incidents"]
    assert incidents[0]["incident_updates"][0]["body"] == HOSTILE.strip()
    assert incidents[0]["name"] == "Errors <b>on</b> checkout"


def test_the_static_export_carries_the_same_sanitised_html(
        client: TestClient, runtime: Runtime, admin: Account, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _hostile_post(client, admin)
    out = tmp_path / "www"
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        cli.json("statuspage", "export", "acme", str(out))
    assert_rendered((out / "index.html").read_text())
    for feed in ("feed.rss", "feed.atom"):
        [body] = _feed_html((out / feed).read_bytes())
        assert_rendered(body)


def test_maintenance_post_bodies_are_markdown_too(client: TestClient, admin: Account,
                                                  clock: FrozenClock) -> None:
    api = service(client, admin, "api")
    p = page(client, admin)
    component(client, admin, p["id"], "API", [api])
    start = clock.now() + timedelta(hours=1)
    r = client.post("/api/v1/maintenance-windows", headers=admin.headers, json={
        "name": "upgrade", "service_id": api, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat()})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/statuspages/{p['id']}/maintenance", headers=admin.headers,
                    json={"window_id": r.json()["id"], "title": "Upgrade", "body": HOSTILE})
    assert r.status_code == 201, r.text
    assert_rendered(public(client, "acme").text)
    [body] = _feed_html(public(client, "acme", "feed.atom").content)
    assert_rendered(body)
    [m] = public(client, "acme", "api/v2/scheduled-maintenances.json").json()[
        "scheduled_maintenances"]
    assert m["incident_updates"][0]["body"] == HOSTILE.strip()


def test_the_editor_preview_shows_the_rendered_markdown(client: TestClient,
                                                        admin: Account) -> None:
    p = page(client, admin)
    csrf = web_login(client, admin)
    r = client.post(f"/statuspages/{p['id']}/posts", data={
        "csrf_token": csrf, "title": "Preview me", "stage": "investigating", "body": HOSTILE,
        "action": "preview"})
    assert r.status_code == 200, r.text
    start = r.text.index('aria-label="Preview"')
    region = r.text[start:r.text.index("</div>\n  </div>", start)]
    assert_rendered(region)
    # Previewing stored nothing.
    assert client.get(f"/api/v1/statuspages/{p['id']}/posts",
                      headers=admin.headers).json()["items"] == []
