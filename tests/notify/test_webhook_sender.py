"""The webhook sender (aiohttp on the send loop) against real loopback servers: the exact
signed body and headers, answers sorted into retry or failure, a stalled receiver, a
refused connection, a proxy from the environment, and a batch of 50 pages sent at once
through deliver_due."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.checks.servers import closed_port, serve
from tests.notify.seed import declare_many, seed_paging
from tests.notify.servers import http_receiver
from tocsin.notify.channels import SENDERS
from tocsin.notify.contract import ChannelKind, Outgoing, PermanentError, TemporaryError, on_send_loop
from tocsin.notify.delivery import deliver_due
from tocsin.notify.models import Message
from tocsin.notify.webhook.sender import close, verify
from tocsin.runtime import Runtime
from tocsin.settings import Settings

send = SENDERS[ChannelKind.WEBHOOK]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url, base_url="http://tocsin.test",
                         webhook_signing_secrets=["new-secret-2026", "old-secret-2025"],
                         notify_rate_limit_per_minute=1000)


def page(address: str) -> Outgoing:
    return Outgoing(ChannelKind.WEBHOOK, address, "[SEV1] INC-7: API down", "Acknowledge: x",
                    data={"kind": "page", "idempotency_key": "inc7:l0:u1:m2",
                          "incident_id": 7, "title": "API down", "level": None})


def pages_due(runtime: Runtime, url: str, count: int) -> None:
    seed = seed_paging(runtime, webhook_url=url)
    declare_many(runtime, service_id=seed["service_id"], count=count,
                 now=runtime.clock.now())
    with runtime.sessions() as s:
        assert s.query(Message).filter(Message.kind == "page").count() == count


def test_page_is_the_same_signed_json_with_both_secrets(settings: Settings) -> None:
    with http_receiver() as (got, url):
        send(page(f"{url}/hook"), settings)
    [r] = got
    # Byte for byte what the httpx sender posted: sorted keys, no spaces.
    assert r.body == (b'{"idempotency_key":"inc7:l0:u1:m2","incident_id":7,"kind":"page",'
                      b'"level":null,"subject":"[SEV1] INC-7: API down",'
                      b'"text":"Acknowledge: x","title":"API down"}')
    assert r.path == "/hook"
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["User-Agent"] == "Tocsin"
    assert r.headers["Idempotency-Key"] == "inc7:l0:u1:m2"
    signature = r.headers["X-Tocsin-Signature"]
    assert verify(r.body, signature, "new-secret-2026")
    assert verify(r.body, signature, "old-secret-2025")
    assert not verify(r.body, signature, "some-other-secret")


def test_unsigned_without_secrets(settings: Settings) -> None:
    plain = settings.model_copy(update={"webhook_signing_secrets": []})
    with http_receiver() as (got, url):
        send(page(url), plain)
    assert "X-Tocsin-Signature" not in got[0].headers


@pytest.mark.parametrize(("status", "error"), [
    (500, TemporaryError), (503, TemporaryError), (429, TemporaryError),
    (408, TemporaryError), (404, PermanentError), (410, PermanentError)])
def test_answers_sorted_into_temporary_and_permanent(settings: Settings, status: int,
                                                     error: type[Exception]) -> None:
    with http_receiver(status=status) as (got, url), pytest.raises(error) as caught:
        send(page(url), settings)
    assert str(caught.value) == f"webhook {url} answered {status}"
    assert len(got) == 1


def test_redirect_is_not_followed(settings: Settings) -> None:
    with serve() as server, pytest.raises(PermanentError, match="answered 302"):
        send(page(server.url("/redirect")), settings)
    assert server.hits == ["/redirect"]


def test_stalled_receiver_is_temporary_within_the_timeout(settings: Settings) -> None:
    impatient = settings.model_copy(update={"webhook_timeout_seconds": 0.5})
    with serve() as server:
        started = time.monotonic()
        with pytest.raises(TemporaryError) as caught:
            send(page(server.url("/hang")), impatient)
        took = time.monotonic() - started
    assert str(caught.value) == f"webhook {server.url('/hang')}: timed out after 0.5 s"
    # The receiver never answers: any bound well below forever shows the timeout ended it.
    assert 0.45 < took < 10


def test_refused_connection_is_temporary_and_names_the_address(settings: Settings) -> None:
    address = f"http://127.0.0.1:{closed_port()}/hook"
    with pytest.raises(TemporaryError) as caught:
        send(page(address), settings)
    assert str(caught.value).startswith(f"webhook {address}: Cannot connect to host")


def test_reset_connection_is_temporary_and_says_so(settings: Settings) -> None:
    with serve() as server, pytest.raises(TemporaryError) as caught:
        send(page(server.url("/reset")), settings)
    said = str(caught.value).removeprefix(f"webhook {server.url('/reset')}: ")
    assert said and said != str(caught.value)


def test_proxy_named_by_the_environment_is_used(settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with http_receiver() as (got, proxy):
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        on_send_loop(close()).result()  # the session reads the environment when made
        try:
            send(page("http://hooks.example.test/tocsin"), settings)
        finally:
            on_send_loop(close()).result()
    assert [r.path for r in got] == ["http://hooks.example.test/tocsin"]


def test_fifty_pages_in_one_batch_are_sent_at_once(runtime: Runtime) -> None:
    # Each answer takes 0.5 s: one after the other the batch would take 25 s.
    with http_receiver(delay=0.5) as (got, url):
        pages_due(runtime, f"{url}/page", 50)
        started = time.monotonic()
        counts = deliver_due(runtime, worker_id="w", limit=100)
        took = time.monotonic() - started
    if counts != {"sent": 50}:  # say why, should a send fail
        with runtime.sessions() as s:
            errors = Counter(m.last_error for m in s.query(Message) if m.last_error)
        raise AssertionError(f"{counts}: {errors}")
    assert took < 10, f"{took:.1f} s: the sends waited for each other"
    keys = Counter(r.headers["Idempotency-Key"] for r in got)
    assert len(keys) == 50 and set(keys.values()) == {1}
    assert all(verify(r.body, r.headers["X-Tocsin-Signature"], "old-secret-2025") for r in got)
    with runtime.sessions() as s:
        assert {m.status for m in s.query(Message)} == {"sent"}


@pytest.mark.parametrize(("status", "result"), [(500, "retry"), (404, "failed")])
def test_batch_answers_become_retries_or_failures(runtime: Runtime, status: int,
                                                  result: str) -> None:
    with http_receiver(status=status) as (got, url):
        pages_due(runtime, url, 5)
        counts = deliver_due(runtime, worker_id="w", limit=100)
    assert counts == {result: 5} and len(got) == 5
    with runtime.sessions() as s:
        errors = {m.last_error for m in s.query(Message)}
    assert errors == {f"webhook {url} answered {status}"}


def test_an_injected_sender_replaces_the_webhook_sender(runtime: Runtime) -> None:
    sent: list[Outgoing] = []

    def fake(out: Outgoing, settings: Any) -> None:
        sent.append(out)

    with http_receiver() as (got, url):
        pages_due(runtime, url, 3)
        counts = deliver_due(runtime, worker_id="w", limit=100,
                             senders={ChannelKind.WEBHOOK: fake})
    assert counts == {"sent": 3} and len(sent) == 3 and got == []
