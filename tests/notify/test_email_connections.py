"""Email goes over a few reused SMTP connections (notify/email/pool.py), and each mail is
recorded sent the moment the server accepted it, its handover recorded before DATA (at
least once) or just before the final dot (bulletins, at most once: pipeline.RecordedHandover).
A real aiosmtpd server on loopback counts connections and mails; a crash is simulated by
abandoning a worker's delivery state halfway (a real kill -9 at each step:
test_mail_once_after_kill.py)."""

from __future__ import annotations

import email
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.notify.servers import free_port
from tocsin.clock import FrozenClock
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind, Handover, Outgoing
from tocsin.notify.delivery import deliver_due
from tocsin.notify.email import pool as smtp_pool
from tocsin.notify.email.sender import _flatten, build, compose, send
from tocsin.notify.models import Message
from tocsin.notify.pipeline import NotMine, RecordedHandover, claim
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime


class Server:
    """Counts each mail per recipient, with its Message-ID, and the connections they came
    over. `close_after`: a connection's next MAIL after that many mails is answered 421
    (closing). `no_reply_to`: the end of DATA of a mail to that address is answered by
    closing the connection without keeping the mail (the client cannot know)."""

    def __init__(self, close_after: int = 0, no_reply_to: str = "") -> None:
        self.close_after, self.no_reply_to = close_after, no_reply_to
        self.got: Counter[str] = Counter()
        self.ids: dict[str, set[str]] = {}
        self.peers: set[Any] = set()
        self.per_peer: Counter[Any] = Counter()
        self.dropped = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        if self.close_after and self.per_peer[session.peer] >= self.close_after:
            return "421 4.3.2 enough for this connection, closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.no_reply_to in envelope.rcpt_tos and not self.dropped:
                self.dropped += 1
                server.transport.close()
                return "451 never seen"
            msg = email.message_from_bytes(envelope.content)
            self.peers.add(session.peer)
            self.per_peer[session.peer] += 1
            for rcpt in envelope.rcpt_tos:
                self.got[rcpt] += 1
                self.ids.setdefault(rcpt, set()).add(str(msg["Message-ID"]))
        return "250 OK"


@contextmanager
def smtp(server: Server) -> Iterator[int]:
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        smtp_pool.close_all()
        controller.stop()


@pytest.fixture
def mail_runtime(make_settings: Any, database_url: str, clock: FrozenClock,
                 request: pytest.FixtureRequest) -> Iterator[tuple[Runtime, Server]]:
    param = dict(getattr(request, "param", {}))
    # at_most_once=False: bulletins recorded before DATA, as pages are (the at-least-once rule)
    at_most_once = param.pop("at_most_once", True)
    server = Server(**param)
    with smtp(server) as port:
        rt = build_runtime(make_settings(database_url=database_url, smtp_port=port,
                                         smtp_connections=2,
                                         notify_bulletins_at_most_once=at_most_once), clock)
        try:
            yield rt, server
        finally:
            rt.close()


def _bulletins(rt: Runtime, count: int, prefix: str = "r") -> list[str]:
    now = rt.clock.now()
    addresses = [f"{prefix}{i}@example.com" for i in range(count)]
    with rt.sessions() as s, s.begin():
        notify.enqueue_bulletins(s, items=[
            (f"test:{a}", "email", a, {"subject": "Update", "text": f"Hello {a}\n"})
            for a in addresses], due_at=now, now=now)
    return addresses


def _rows(rt: Runtime) -> dict[str, Message]:
    with rt.sessions() as s:
        return {m.address or "": m for m in s.scalars(select(Message))}


def test_many_mails_go_over_few_connections_each_arriving_once(
        mail_runtime: tuple[Runtime, Server]) -> None:
    rt, server = mail_runtime
    addresses = _bulletins(rt, 60)
    assert deliver_due(rt, worker_id="w1", limit=100) == {"sent": 60}
    assert server.got == Counter({a: 1 for a in addresses})
    assert 1 <= len(server.peers) <= 2  # smtp_connections=2, each reused
    assert {m.status for m in _rows(rt).values()} == {"sent"}
    addresses = _bulletins(rt, 10, prefix="later")  # the idle connections serve these too
    deliver_due(rt, worker_id="w1", limit=100)
    assert all(server.got[a] == 1 for a in addresses) and len(server.peers) <= 2


@pytest.mark.parametrize("mail_runtime", [{"close_after": 7}], indirect=True)
def test_a_connection_the_server_closes_midway_loses_and_doubles_nothing(
        mail_runtime: tuple[Runtime, Server]) -> None:
    rt, server = mail_runtime
    addresses = _bulletins(rt, 40)
    assert deliver_due(rt, worker_id="w1", limit=100) == {"sent": 40}
    assert server.got == Counter({a: 1 for a in addresses})
    assert len(server.peers) >= 6  # 40 mails, 7 per connection: it reconnected
    assert all(m.possibly_duplicated == 0 for m in _rows(rt).values())


@pytest.mark.parametrize("mail_runtime", [{"no_reply_to": "r5@example.com",
                                           "at_most_once": False}], indirect=True)
def test_at_least_once_a_lost_reply_is_retried_and_counted_possibly_duplicated(
        mail_runtime: tuple[Runtime, Server], clock: FrozenClock) -> None:
    rt, server = mail_runtime
    addresses = _bulletins(rt, 20)
    assert deliver_due(rt, worker_id="w1", limit=100) == {"sent": 19, "retry": 1}
    lost = _rows(rt)["r5@example.com"]
    assert (lost.status, lost.handover_attempt) == ("pending", 1)
    assert "may have kept it" in (lost.last_error or "")
    clock.advance(seconds=10)  # its backoff
    assert deliver_due(rt, worker_id="w1", limit=100) == {"sent": 1}
    assert server.got == Counter({a: 1 for a in addresses})  # the server dropped the first
    rows = _rows(rt)
    assert rows["r5@example.com"].possibly_duplicated == 1
    assert sum(m.possibly_duplicated for m in rows.values()) == 1


@pytest.mark.parametrize("mail_runtime", [{"no_reply_to": "r5@example.com"}], indirect=True)
def test_at_most_once_a_lost_reply_is_recorded_sent_unconfirmed_and_never_sent_again(
        mail_runtime: tuple[Runtime, Server], clock: FrozenClock) -> None:
    """The dot was written, the reply never came: the server may have the mail (this test
    server dropped it: the loss at-most-once accepts when a server fails to keep a mail
    whose end it got), so it is not sent again and says so."""
    rt, server = mail_runtime
    addresses = _bulletins(rt, 20)
    assert deliver_due(rt, worker_id="w1", limit=100) == {"sent": 20}
    lost = _rows(rt)["r5@example.com"]
    assert (lost.status, lost.delivery_unconfirmed, lost.committed_attempt) == \
        ("sent", True, None)
    assert "no reply came" in (lost.last_error or "")
    clock.advance(timedelta(minutes=10))
    assert deliver_due(rt, worker_id="w1", limit=100) == {}
    assert server.got == Counter({a: 1 for a in addresses if a != "r5@example.com"})
    rows = _rows(rt)
    assert [a for a, m in rows.items() if m.delivery_unconfirmed] == ["r5@example.com"]
    assert sum(m.possibly_duplicated for m in rows.values()) == 0


class Crashing:
    """The handover of a worker killed after the server accepted the mail and before the
    acceptance was recorded: `begin` is recorded, `accepted` never is."""

    def __init__(self, real: Handover) -> None:
        self.real = real

    def begin(self) -> None:
        self.real.begin()

    def commit(self, finish: Callable[[], None]) -> None:
        self.real.commit(finish)

    def accepted(self) -> None:
        return None


@pytest.mark.parametrize("mail_runtime", [{"at_most_once": False}], indirect=True)
def test_at_least_once_after_a_crash_the_mail_left_in_handover_is_sent_again_and_marked(
        mail_runtime: tuple[Runtime, Server], clock: FrozenClock) -> None:
    rt, server = mail_runtime
    done, ambiguous, untouched = _bulletins(rt, 3)
    claimed = {m.address: m for m in claim(rt, worker_id="dead", now=clock.now(), limit=10)}
    assert set(claimed) == {done, ambiguous, untouched}

    def out(address: str) -> Outgoing:
        key = claimed[address].key
        return Outgoing(ChannelKind.EMAIL, address, "Update", "Hello\n",
                        data={"idempotency_key": key})

    # The dead worker: one mail accepted and recorded, one accepted but not recorded, one
    # claimed and never begun. Its delivery state is then abandoned.
    send(out(done), rt.settings, RecordedHandover(rt, claimed[done], "dead"))
    send(out(ambiguous), rt.settings, Crashing(RecordedHandover(rt, claimed[ambiguous], "dead")))
    rows = _rows(rt)
    assert (rows[done].status, rows[ambiguous].status, rows[untouched].status) == \
        ("sent", "sending", "sending")
    assert (rows[ambiguous].handover_attempt, rows[untouched].handover_attempt) == (1, None)
    first_id = server.ids[ambiguous]

    clock.advance(seconds=rt.settings.notify_lease_seconds + 1)  # the dead worker's leases
    assert deliver_due(rt, worker_id="restarted", limit=10) == {"sent": 2}
    assert server.got == Counter({done: 1, ambiguous: 2, untouched: 1})
    assert server.ids[ambiguous] == first_id  # the copy has the same Message-ID
    rows = _rows(rt)
    assert {a: (m.status, m.possibly_duplicated) for a, m in rows.items()} == {
        done: ("sent", 0), ambiguous: ("sent", 1), untouched: ("sent", 0)}
    clock.advance(timedelta(minutes=5))
    assert deliver_due(rt, worker_id="restarted", limit=10) == {}  # nothing more, ever


def _taken_over_while_sending(rt: Runtime, clock: FrozenClock) -> tuple[str, Outgoing, Any]:
    """A bulletin claimed by worker "slow" whose lease ran out, claimed again by "other";
    "slow" then tries to send it and is refused (NotMine). Returns (its address, the mail,
    the other worker's claim)."""
    (address,) = _bulletins(rt, 1)
    (mine,) = claim(rt, worker_id="slow", now=clock.now(), limit=1)
    clock.advance(seconds=rt.settings.notify_lease_seconds + 1)
    (theirs,) = claim(rt, worker_id="other", now=clock.now(), limit=1)
    out = Outgoing(ChannelKind.EMAIL, address, "Update", "Hello\n",
                   data={"idempotency_key": mine.key})
    with pytest.raises(NotMine):
        send(out, rt.settings, RecordedHandover(rt, mine, "slow"))
    return address, out, theirs


@pytest.mark.parametrize("mail_runtime", [{"at_most_once": False}], indirect=True)
def test_a_handover_refused_sends_nothing_and_keeps_the_connection(
        mail_runtime: tuple[Runtime, Server], clock: FrozenClock) -> None:
    """The lease ran out and another worker took the mail over before DATA: the first
    worker's `begin` finds it no longer holds the message and sends nothing."""
    rt, server = mail_runtime
    address, out, theirs = _taken_over_while_sending(rt, clock)
    send(out, rt.settings, RecordedHandover(rt, theirs, "other"))
    assert server.got == Counter({address: 1}) and len(server.peers) == 1


def test_a_commit_refused_abandons_the_mail_in_the_middle_of_data_and_the_server_drops_it(
        mail_runtime: tuple[Runtime, Server], clock: FrozenClock) -> None:
    """At most once: the whole mail but its final dot went out when `commit` found the
    message taken over by another worker. The connection is closed there (an unterminated
    DATA), so the server keeps nothing; the other worker's copy is the only one."""
    rt, server = mail_runtime
    address, out, theirs = _taken_over_while_sending(rt, clock)
    assert server.got == Counter()
    send(out, rt.settings, RecordedHandover(rt, theirs, "other"))
    assert server.got == Counter({address: 1}) and len(server.peers) == 1
    assert smtp_pool.pool_for(rt.settings).opened == 2  # the abandoned one was closed
    row = _rows(rt)[address]
    assert (row.status, row.delivery_unconfirmed, row.committed_attempt) == ("sent", False, None)


@pytest.mark.parametrize("subject,text,headers", [
    ("[Acme] Elevated errors: Investigating", "Elevated errors\nUnsubscribe: http://x/u\n",
     {"List-Unsubscribe": "<http://x/u>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}),
    ("Tocsin: test message", "one line, no newline at the end", {}),
    ("s" * 70, "line\r\nline two\rline three\n\n", {}),
    ("s", ".a leading dot\n", {}),
    ("s", "", {}),
    ("a subject much longer than seventy-eight characters, which the email package folds",
     "text", {}),
    ("Störung", "text", {}),
    ("s", "Grüße", {}),
    ("s", "x" * 100, {}),
    ("  spaced  out  ", "text", {}),
    ("=?utf-8?q?encoded?=", "text", {}),
])
def test_written_directly_or_not_a_mail_is_what_the_email_package_writes(
        subject: str, text: str, headers: dict[str, str], make_settings: Any) -> None:
    settings: Settings = make_settings(reply_domain="reply.example.com")
    out = Outgoing(ChannelKind.EMAIL, "reader@example.com", subject, text,
                   data={"idempotency_key": "sp:1:s1", "ack_url": "http://x/ack/tok"},
                   headers=headers)
    assert compose(out, settings) == _flatten(build(out, settings), international=False)
