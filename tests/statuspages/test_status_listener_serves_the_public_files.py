"""The status listener (`statuspage_port`, api/listener.py) answers the public files with the
same bytes and headers as /status/<slug>/… on the main port, 304s, HEAD, pipelined requests in
order, a published update within the revalidation time; anything else a small 404 (the
subscriber paths a 308 to the app), a malformed request 400 with the connection closed."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httptools
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.intake.conftest import make_cert, serve
from tests.statuspages.helpers import PUBLIC_FILES, component, page, run_refresh, service
from tocsin.api import listener
from tocsin.runtime import Runtime
from tocsin.settings import ConfigError, Settings, load_settings
from tocsin.statuspages.fastlane import REVALIDATE
from tocsin.wiring import build_runtime

# Headers a server adds on its own (uvicorn: date, server); every other one must match.
OWN = {"date", "server", "connection"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(smtp_settings: Settings) -> Settings:
    return smtp_settings.model_copy(update={"statuspage_port": _free_port()})


@dataclass
class Ports:
    main: str
    status: str


@pytest.fixture
def ports(runtime: Runtime) -> Iterator[Ports]:
    with serve(runtime) as port:
        yield Ports(f"http://127.0.0.1:{port}",
                    f"http://127.0.0.1:{runtime.settings.statuspage_port}")


def _headers(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k not in OWN}


def test_listener_answers_the_same_bytes_and_headers_as_the_main_port(
        client: TestClient, admin: Account, ports: Ports) -> None:
    page(client, admin)
    with httpx.Client(timeout=60) as http:
        for name in PUBLIC_FILES:
            main = http.get(f"{ports.main}/status/acme/{name}")
            mine = http.get(f"{ports.status}/status/acme/{name}")
            assert main.status_code == mine.status_code == 200, name
            assert mine.content == main.content, name
            assert _headers(mine) == _headers(main), name
            assert "date" in mine.headers
        index = http.get(f"{ports.status}/status/acme/")
        assert index.content == http.get(f"{ports.status}/status/acme/index.html").content
        assert "form-action 'self' http://tocsin.test" in index.headers[
            "content-security-policy"]


def test_conditional_requests_and_head(client: TestClient, admin: Account,
                                       ports: Ports) -> None:
    page(client, admin)
    url = f"{ports.status}/status/acme/api/v2/summary.json"
    with httpx.Client(timeout=60) as http:
        full = http.get(url)
        by_etag = http.get(url, headers={"If-None-Match": full.headers["etag"]})
        assert by_etag.status_code == 304 and by_etag.content == b""
        assert by_etag.headers["etag"] == full.headers["etag"]
        assert "content-type" not in by_etag.headers
        main = http.get(url.replace(ports.status, ports.main),
                        headers={"If-None-Match": full.headers["etag"]})
        assert _headers(by_etag) == _headers(main)
        listed = http.get(url, headers={"If-None-Match": f'"other", {full.headers["etag"]}'})
        assert listed.status_code == 304
        by_date = http.get(url, headers={"If-Modified-Since": full.headers["last-modified"]})
        assert by_date.status_code == 304
        stale = http.get(url, headers={"If-None-Match": '"not-it"',
                                       "If-Modified-Since": full.headers["last-modified"]})
        assert stale.status_code == 200 and stale.content == full.content  # the ETag decides
        head = http.head(url)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(full.content))
        assert head.headers["etag"] == full.headers["etag"]


def test_anything_else_is_a_small_404_and_subscriber_paths_go_to_the_app(
        client: TestClient, admin: Account, ports: Ports) -> None:
    page(client, admin)
    with httpx.Client(timeout=60) as http:
        for path in ("/", "/api/v1/health", "/api/v1/statuspages", "/status/", "/status/acme",
                     "/status/nobody/", "/status/acme/missing.json", "/web/login",
                     "/status/acme/api/v2/nothing.json"):
            r = http.get(ports.status + path)
            assert r.status_code == 404, path
            assert r.content == b"not found\n" and r.headers["cache-control"] == "no-store"
        on_main = http.get(ports.main + "/api/v1/health")
        assert on_main.status_code == 200  # the same app answers it on its own port
        posted = http.post(ports.status + "/status/acme/subscribe", data={"email": "a@b.test"})
        assert posted.status_code == 308
        assert posted.headers["location"] == "http://tocsin.test/status/acme/subscribe"
        confirm = http.get(ports.status + "/status/acme/confirm/tok%20en?x=1")
        assert confirm.status_code == 308
        assert confirm.headers["location"] == "http://tocsin.test/status/acme/confirm/tok%20en?x=1"
        assert http.post(ports.status + "/status/acme/unsubscribe/t").headers[
            "location"] == "http://tocsin.test/status/acme/unsubscribe/t"
        not_allowed = http.post(ports.status + "/status/acme/", content=b"x")
        assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "GET, HEAD"


def test_restricted_incident_absent_and_a_published_update_visible_within_revalidation(
        client: TestClient, runtime: Runtime, admin: Account, ports: Ports,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    vault = service(client, admin, "vault")
    p = page(client, admin)
    vault_c = component(client, admin, p["id"], "Vault", [vault])
    secret = make_incident(severity="SEV1", service_ids=[vault], title="SECRET-BREACH-TITLE",
                           restricted=True)
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers, json={
        "title": "Hidden-Post-Title", "stage": "investigating", "body": "x",
        "incident_id": secret["id"], "component_ids": [vault_c]})
    assert r.status_code == 201, r.text
    run_refresh(runtime)
    with httpx.Client(timeout=60) as http:
        for name in PUBLIC_FILES:
            text = http.get(f"{ports.status}/status/acme/{name}").text
            assert "SECRET-BREACH-TITLE" not in text and "Hidden-Post-Title" not in text, name
        before = http.get(f"{ports.status}/status/acme/")  # now held in the process's copy
        assert "Fresh news" not in before.text
        r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                        json={"title": "Fresh news", "stage": "investigating", "body": "y"})
        assert r.status_code == 201
        published = time.monotonic()
        while "Fresh news" not in (seen := http.get(f"{ports.status}/status/acme/")).text:
            assert time.monotonic() - published < REVALIDATE + 5
            time.sleep(0.02)
        assert seen.headers["etag"] != before.headers["etag"]
        gone = http.get(f"{ports.status}/status/acme/",
                        headers={"If-None-Match": before.headers["etag"]})
        assert gone.status_code == 200  # the old ETag no longer matches


# ---- the wire: pipelining, keep-alive, malformed requests -----------------------------------

class _Responses:
    """httptools' response parser collecting whole responses."""

    def __init__(self) -> None:
        self.done: list[tuple[int, dict[bytes, bytes], bytes]] = []
        self.parser = httptools.HttpResponseParser(self)
        self._headers: dict[bytes, bytes] = {}
        self._body = b""

    def on_message_begin(self) -> None:
        self._headers, self._body = {}, b""

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        self.done.append((self.parser.get_status_code(), self._headers, self._body))


def _exchange(port: int, raw: bytes, expect: int, head_at: set[int] | None = None
              ) -> tuple[list[tuple[int, dict[bytes, bytes], bytes]], bool]:
    """Send `raw` at once; read until `expect` responses arrived. Returns them and whether
    the server closed the connection after them."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        got = _Responses()
        closed = False
        while len(got.done) < expect:
            if head_at and len(got.done) in head_at:  # a HEAD reply has no body to parse
                got.parser.set_dangerous_leniencies()
            data = sock.recv(65536)
            if not data:
                closed = True
                break
            got.parser.feed_data(data)
        if not closed:
            sock.settimeout(1.0)
            try:
                closed = sock.recv(1) == b""
            except TimeoutError:
                closed = False
        return got.done, closed


def test_pipelined_requests_are_answered_in_order_on_one_connection(
        client: TestClient, admin: Account, runtime: Runtime, ports: Ports) -> None:
    page(client, admin)
    port = runtime.settings.statuspage_port
    assert port is not None
    with httpx.Client(timeout=60) as http:
        summary = http.get(f"{ports.status}/status/acme/api/v2/summary.json")
        index = http.get(f"{ports.status}/status/acme/")
    etag = summary.headers["etag"].encode()
    raw = (b"GET /status/acme/api/v2/summary.json HTTP/1.1\r\nHost: s\r\n\r\n"
           b"GET /status/acme/nothing HTTP/1.1\r\nHost: s\r\n\r\n"
           b"GET /status/acme/api/v2/summary.json HTTP/1.1\r\nHost: s\r\nIf-None-Match: "
           + etag + b"\r\n\r\n"
           b"GET /status/acme/ HTTP/1.1\r\nHost: s\r\n\r\n")
    done, closed = _exchange(port, raw, 4)
    assert [status for status, _, _ in done] == [200, 404, 304, 200]
    assert done[0][2] == summary.content and done[3][2] == index.content
    assert done[2][2] == b""
    assert not closed  # keep-alive: still open for more

    # Connection: close is honoured after the reply, and nothing after it is answered.
    done, closed = _exchange(port, b"GET /status/acme/ HTTP/1.1\r\nHost: s\r\nConnection: "
                             b"close\r\n\r\nGET /status/acme/ HTTP/1.1\r\nHost: s\r\n\r\n", 2)
    assert [status for status, _, _ in done] == [200] and closed
    assert done[0][1][b"connection"] == b"close"
    # HTTP/1.0 without keep-alive: one answer, then closed.
    done, closed = _exchange(port, b"GET /status/acme/ HTTP/1.0\r\n\r\n", 1)
    assert [status for status, _, _ in done] == [200] and closed


def test_malformed_request_gets_400_and_the_connection_closed(
        client: TestClient, admin: Account, runtime: Runtime, ports: Ports) -> None:
    page(client, admin)
    port = runtime.settings.statuspage_port
    assert port is not None
    for raw in (b"NONSENSE\r\n\r\n", b"GET /status/acme/ HTTP/1.1\r\nBad Header\r\n\r\n",
                b"GET /status/acme/ HTTP/9.9\r\n\r\n",
                b"GET /status/acme/ HTTP/1.1\r\nHost: s\r\nContent-Length: x\r\n\r\n"):
        done, closed = _exchange(port, raw, 1)
        assert [status for status, _, _ in done] == [400], raw
        assert closed, raw
    # A good request, then garbage on the same connection: the first is answered, then 400.
    done, closed = _exchange(port, b"GET /status/acme/ HTTP/1.1\r\nHost: s\r\n\r\n\x00\x01\r\n",
                             2)
    assert [status for status, _, _ in done] == [200, 400] and closed
    oversized = b"GET /status/acme/ HTTP/1.1\r\nHost: s\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"
    done, closed = _exchange(port, oversized, 1)
    assert [status for status, _, _ in done] == [431] and closed


def test_idle_and_trickling_connections_are_closed(
        client: TestClient, admin: Account, runtime: Runtime, ports: Ports,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener, "KEEP_ALIVE_SECONDS", 1.0)
    monkeypatch.setattr(listener, "REQUEST_SECONDS", 2.0)
    page(client, admin)
    port = runtime.settings.statuspage_port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=30) as idle:
        idle.sendall(b"GET /status/acme/ HTTP/1.1\r\nHost: s\r\n\r\n")
        started = time.monotonic()
        while idle.recv(65536):  # the reply, then the close
            pass
        assert 0.5 < time.monotonic() - started < 10
    with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
        started = time.monotonic()
        closed = False
        for byte in b"GET /status/acme/ HTTP/1.1\r\nHost: s\r\nX-Slow: " + b"a" * 100:
            try:
                slow.sendall(bytes([byte]))
                slow.settimeout(0.2)
                closed = slow.recv(1) == b""
            except TimeoutError:
                pass
            except OSError:
                closed = True
            if closed:
                break
        assert closed and 1.5 < time.monotonic() - started < 10


def test_the_listener_needs_a_port_of_its_own(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="port of its own"):
        load_settings(env="dev", data_dir=tmp_path, port=8080, statuspage_port=8080)
    assert load_settings(env="dev", data_dir=tmp_path).statuspage_port is None  # off by default


def test_listener_speaks_https_with_the_main_ports_certificate(
        client: TestClient, admin: Account, runtime: Runtime, tmp_path: Path) -> None:
    page(client, admin)
    cert, key = make_cert(tmp_path)
    tls = build_runtime(runtime.settings.model_copy(update={
        "tls_cert_file": cert, "tls_key_file": key, "statuspage_port": _free_port()}),
        runtime.clock)
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        with serve(tls, ssl_certfile=str(cert), ssl_keyfile=str(key)) as port, \
                httpx.Client(verify=trust, timeout=60) as http:
            main = http.get(f"https://127.0.0.1:{port}/status/acme/")
            mine = http.get(f"https://127.0.0.1:{tls.settings.statuspage_port}/status/acme/")
            assert mine.status_code == 200 and mine.content == main.content
            with pytest.raises(httpx.HTTPError):  # no plain HTTP on it
                httpx.get(f"http://127.0.0.1:{tls.settings.statuspage_port}/status/acme/",
                          timeout=3)
    finally:
        tls.close()
