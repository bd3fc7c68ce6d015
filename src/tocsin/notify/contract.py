"""The notifier contract: what a sender gets (`Outgoing`) and how it fails.

A sender gets one rendered message and either returns (delivered), or raises
TemporaryError (try again later; UnknownOutcome when the receiver may have it already) or
PermanentError (this address will never work). A sender may be a coroutine function wrapped
in AsyncSender: the pipeline then runs it on the process's one send loop, many at once
without a thread each; or a function wrapped in HandoverSender, which also says when the
receiver may start to have the message and when it took it (email). The senders (email/,
webhook/, apprise_channel/) import this module; the registry of channels (channels.py)
imports them.
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from tocsin.settings import Settings


class TemporaryError(Exception):
    """Delivery failed but may work later (timeout, 5xx, 4xx SMTP reply)."""


class PermanentError(Exception):
    """Delivery can never work for this address (rejected recipient, bad URL, 4xx HTTP)."""


class UnknownOutcome(TemporaryError):
    """The receiver may or may not have the message: the connection was lost (or timed out)
    after the whole message was handed over and before the receiver answered. Retried like
    a temporary error; the next send is counted as possibly duplicated."""


class Handover(Protocol):
    """What a HandoverSender reports while it sends one message, in this order. The
    pipeline records the report its message's guarantee names (notify/guarantee.py)
    durably before it returns: `begin` for messages sent at least once, `commit` for those
    sent at most once; and `accepted` for both."""

    def begin(self) -> None:
        """Just before the step after which the receiver may start to have the message
        (SMTP: the DATA command). Raises if the message must not be handed over (another
        worker took it over): the sender then abandons this message without sending it."""

    def commit(self, finish: Callable[[], None]) -> None:
        """The whole message went out but its last step, the one that makes the receiver
        keep it (SMTP: the final dot of DATA), which `finish` does. Calls `finish` — for a
        message sent at most once, the moment the commitment is durable, before anything
        else (even giving back the database connection): a crash between the two loses
        the message. Raises like `begin` without calling `finish`: the sender then
        abandons the message so that the receiver drops what it got (SMTP: closes the
        connection in the middle of DATA)."""

    def accepted(self) -> None:
        """The receiver has taken the message (SMTP: 250 to the end of DATA)."""


class _NoHandover:
    def begin(self) -> None:
        return None

    def commit(self, finish: Callable[[], None]) -> None:
        finish()

    def accepted(self) -> None:
        return None


NO_HANDOVER: Handover = _NoHandover()


class ChannelKind(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    # Sent through Apprise; the address is an Apprise URL.
    SMS = "sms"
    VOICE = "voice"
    NTFY = "ntfy"
    PUSHOVER = "pushover"
    SLACK = "slack"
    TEAMS = "teams"
    TELEGRAM = "telegram"
    DISCORD = "discord"
    APPRISE = "apprise"


# Apprise URL schemes each named kind accepts (APPRISE accepts any Apprise URL).
APPRISE_SCHEMES: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.SMS: ("twilio", "vonage", "nexmo", "sns", "clicksend", "plivo", "sinch",
                      "messagebird", "bulksms", "d7sms", "signal", "signals"),
    ChannelKind.VOICE: ("twilio",),
    ChannelKind.NTFY: ("ntfy", "ntfys"),
    ChannelKind.PUSHOVER: ("pover",),
    ChannelKind.SLACK: ("slack", "https"),
    ChannelKind.TEAMS: ("msteams", "workflow", "workflows"),
    ChannelKind.TELEGRAM: ("tgram",),
    ChannelKind.DISCORD: ("discord",),
}


@dataclass(frozen=True)
class Outgoing:
    kind: ChannelKind
    address: str
    subject: str
    text: str
    html: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # structured copy for webhooks
    headers: dict[str, str] = field(default_factory=dict)  # extra email headers


Sender = Callable[[Outgoing, Settings], None]
T = TypeVar("T")


@dataclass(frozen=True)
class HandoverSender:
    """A sender (`send`) that reports where its handover begins and when it was accepted
    (see Handover): the pipeline then records the message sent the moment the receiver took
    it, not with the others of its batch. Called like a plain Sender it reports nothing."""

    send: Callable[[Outgoing, Settings, Handover], None]

    def __call__(self, out: Outgoing, settings: Settings) -> None:
        self.send(out, settings, NO_HANDOVER)


@dataclass(frozen=True)
class AsyncSender:
    """A sender written as a coroutine function (`send`), run on the send loop. Called like
    a plain Sender it runs there and waits, so it is a Sender too (never call it from the
    send loop itself: that would wait on its own thread forever)."""

    send: Callable[[Outgoing, Settings], Coroutine[Any, Any, None]]

    def __call__(self, out: Outgoing, settings: Settings) -> None:
        on_send_loop(self.send(out, settings)).result()


def on_send_loop(coro: Coroutine[Any, Any, T]) -> Future[T]:
    """Run `coro` on the send loop; its future fits `concurrent.futures.wait`."""
    return asyncio.run_coroutine_threadsafe(coro, send_loop())


_loop: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
_loop_lock = threading.Lock()


def send_loop() -> asyncio.AbstractEventLoop:
    """The process's one event loop for async senders, in a daemon thread started on first
    use. A forked child, where that thread does not exist, starts its own."""
    global _loop
    with _loop_lock:
        if _loop is None or not _loop[1].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="tocsin-send-loop",
                                      daemon=True)
            thread.start()
            _loop = (loop, thread)
        return _loop[0]
