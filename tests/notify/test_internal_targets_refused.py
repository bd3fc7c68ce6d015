"""A responder cannot make the server send to internal addresses: refused when a webhook
or Apprise contact method is added (422 at `address`), and again at send time on the
address actually connected to — a name that resolved to a public address when the method
was added and resolves to 127.0.0.1 now (DNS rebinding) reaches no loopback receiver, and
its message fails permanently with the reason. The admin's `outbound_allow` admits them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import LOOPBACK_ALLOWED, Account
from tests.notify.paging import drain, worker
from tests.notify.servers import Inbox, http_receiver
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.notify.channels import SENDERS
from tocsin.notify.contract import ChannelKind, Outgoing, PermanentError
from tocsin.notify.models import Message
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime

INTERNAL_WEBHOOKS = [
    ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::1]:8080/hook", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]:8080/hook", "::ffff:7f00:1 is a loopback address"),
    ("http://localhost:8080/hook", "localhost resolves to"),
]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Inbox, int]) -> Settings:
    """The default: no internal target allowed."""
    return make_settings(database_url=database_url, smtp_port=smtp[1],
                         base_url="http://tocsin.test", outbound_allow=[])


@pytest.fixture
def allowing(settings: Settings, clock: FrozenClock) -> Iterator[Runtime]:
    """A second server on the same database whose admin allows these internal targets."""
    rt = build_runtime(settings.model_copy(update={"outbound_allow": [
        *LOOPBACK_ALLOWED, "10.0.0.0/8", "169.254.169.254"]}), clock)
    yield rt
    rt.close()


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names under .rebind.test resolve to what `answer["now"]` says (the real resolver
    answers every other name); both the creation check and the senders' lookups use it."""
    answer = {"now": "93.184.216.34"}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not name.rstrip(".").endswith(".rebind.test"):
            return real(host, port, *args, **kwargs)
        number = int(port) if port else 0
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer["now"], number))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answer


def add(client: TestClient, who: Account, kind: str, address: str) -> Any:
    return client.post(f"/api/v1/users/{who.id}/contact-methods", headers=who.headers,
                       json={"kind": kind, "address": address})


def messages(runtime: Runtime) -> list[Message]:
    with runtime.sessions() as s:
        return list(s.query(Message).order_by(Message.id))


@pytest.mark.parametrize(("url", "reason"), INTERNAL_WEBHOOKS)
def test_responder_cannot_add_a_webhook_to_an_internal_address(
        client: TestClient, runtime: Runtime, responder: Account, url: str,
        reason: str) -> None:
    r = add(client, responder, "webhook", url)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("address: refused: ") and reason in detail
    assert "outbound_allow" in detail
    assert client.get(f"/api/v1/users/{responder.id}/contact-methods",
                      headers=responder.headers).json()["items"] == []
    assert messages(runtime) == []  # no verification code went anywhere


@pytest.mark.parametrize(("url", "reason"), INTERNAL_WEBHOOKS)
def test_the_allowlist_admits_internal_webhooks(allowing: Runtime, responder: Account,
                                               url: str, reason: str) -> None:
    with TestClient(create_app(allowing), raise_server_exceptions=False) as client:
        r = add(client, responder, "webhook", url)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(("kind", "url", "reason"), [
    ("apprise", "json://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address"),
    ("apprise", "xml://169.254.169.254/x", "169.254.169.254 is a link-local address"),
    ("ntfy", "ntfy://10.0.0.5/pages", "10.0.0.5 is a private address"),
    ("apprise", "mailto://user:pw@192.168.1.1?to=a@example.com",
     "192.168.1.1 is a private address"),
])
def test_apprise_urls_naming_an_internal_server_are_refused(
        client: TestClient, responder: Account, kind: str, url: str, reason: str) -> None:
    r = add(client, responder, kind, url)
    assert r.status_code == 422 and reason in r.json()["detail"], r.text


@pytest.mark.parametrize(("kind", "url"), [
    ("ntfy", "ntfy://tocsin-pages"),  # ntfy.sh, the topic is not a host
    ("discord", "discord://4174216298/token"),  # a webhook id, not an address
    ("slack", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"),
])
def test_apprise_urls_whose_host_part_is_a_token_are_not_judged(
        client: TestClient, responder: Account, kind: str, url: str) -> None:
    assert add(client, responder, kind, url).status_code == 201


def test_webhook_name_rebound_to_loopback_fails_permanently_and_reaches_nothing(
        client: TestClient, runtime: Runtime, responder: Account,
        rebinding: dict[str, str]) -> None:
    with http_receiver() as (got, url):
        port = url.rsplit(":", 1)[1]
        r = add(client, responder, "webhook", f"http://hooks.rebind.test:{port}/hook")
        assert r.status_code == 201, r.text  # it answered a public address then
        rebinding["now"] = "127.0.0.1"
        drain(worker(runtime))
    assert got == []
    [verify] = messages(runtime)
    assert verify.status == "failed" and verify.attempts == 1  # permanent: not retried
    assert verify.last_error == (
        f"webhook http://hooks.rebind.test:{port}/hook: refused: hooks.rebind.test resolves "
        "to 127.0.0.1 is a loopback address; the server sends only to public addresses "
        "unless an admin allows this target (outbound_allow setting)")
    listed = client.get(f"/api/v1/users/{responder.id}/contact-methods",
                        headers=responder.headers).json()["items"]
    assert "127.0.0.1 is a loopback address" in listed[0]["verification_error"]


def test_apprise_name_rebound_to_loopback_fails_permanently_and_reaches_nothing(
        client: TestClient, runtime: Runtime, responder: Account,
        rebinding: dict[str, str]) -> None:
    with http_receiver() as (got, url):
        port = url.rsplit(":", 1)[1]
        r = add(client, responder, "apprise", f"json://hooks.rebind.test:{port}/hook")
        assert r.status_code == 201, r.text
        rebinding["now"] = "127.0.0.1"
        drain(worker(runtime))
    assert got == []
    [verify] = messages(runtime)
    assert verify.status == "failed" and verify.attempts == 1
    assert verify.last_error is not None
    assert "refused: hooks.rebind.test resolves to 127.0.0.1 is a loopback address" in \
        verify.last_error


@pytest.fixture
def redirecting() -> Iterator[tuple[int, list[str]]]:
    """A loopback server whose /hop redirects to http://localhost:<port>/landed; yields
    (port, paths requested)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(302 if self.path == "/hop" else 200)
            self.send_header("Location", f"http://localhost:{port}/landed")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port, hits
    finally:
        server.shutdown()
        server.server_close()


def test_apprise_redirect_to_an_internal_name_is_not_followed_there(
        settings: Settings, rebinding: dict[str, str], redirecting: tuple[int, list[str]]) -> None:
    """The admin allows one internal receiver by name; its redirect to another internal
    name is refused at that hop (Apprise's HTTP client follows redirects)."""
    rebinding["now"] = "127.0.0.1"
    port, hits = redirecting
    allowed = settings.model_copy(update={"outbound_allow": ["hooks.rebind.test"]})
    out = Outgoing(ChannelKind.APPRISE, f"json://hooks.rebind.test:{port}/hop", "s", "t")
    with pytest.raises(PermanentError, match=r"localhost resolves to .* loopback address"):
        SENDERS[ChannelKind.APPRISE](out, allowed)
    assert hits == ["/hop"]


def test_an_allowance_withdrawn_stops_sends_to_an_address_in_the_url(
        runtime: Runtime, allowing: Runtime, responder: Account) -> None:
    """Added while the admin allowed loopback, sent by a server that no longer does: the
    address written in the URL is judged at send time too (aiohttp connects to it without
    asking the resolver)."""
    with http_receiver() as (got, url), \
            TestClient(create_app(allowing), raise_server_exceptions=False) as client:
        assert add(client, responder, "webhook", f"{url}/hook").status_code == 201
        assert add(client, responder, "apprise",
                   f"json://127.0.0.1:{url.rsplit(':', 1)[1]}/a").status_code == 201
        drain(worker(runtime))
    assert got == []
    failed = messages(runtime)
    assert [m.status for m in failed] == ["failed", "failed"]
    assert all("127.0.0.1 is a loopback address" in (m.last_error or "") for m in failed)


def test_the_allowlist_lets_the_same_sends_through(allowing: Runtime, responder: Account,
                                                   rebinding: dict[str, str]) -> None:
    rebinding["now"] = "127.0.0.1"
    with http_receiver() as (got, url):
        port = url.rsplit(":", 1)[1]
        for kind, address in [("webhook", f"http://hooks.rebind.test:{port}/w"),
                              ("apprise", f"json://hooks.rebind.test:{port}/a")]:
            out = Outgoing(ChannelKind(kind), address, "subject", "text")
            SENDERS[out.kind](out, allowing.settings)
    assert sorted(r.path for r in got) == ["/a", "/w"]


def test_refused_send_is_a_permanent_error_of_the_sender(settings: Settings) -> None:
    out = Outgoing(ChannelKind.WEBHOOK, "http://[::1]:9/hook", "subject", "text")
    with pytest.raises(PermanentError, match=r"refused: ::1 is a loopback address"):
        SENDERS[ChannelKind.WEBHOOK](out, settings)
