"""The notifier contract and the one registry of channels.

A sender gets one rendered message and either returns (delivered), or raises
TemporaryError (try again later) or PermanentError (this address will never work). Dedup,
rate limits, retries and recording are pipeline stages around it (pipeline.py). A sender
may be a coroutine function wrapped in AsyncSender: the pipeline then runs it on the
process's one send loop, many at once without a thread each.
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tocsin.outbound import OutboundPolicy, refused_message, url_refusal
from tocsin.settings import Settings


class TemporaryError(Exception):
    """Delivery failed but may work later (timeout, 5xx, 4xx SMTP reply)."""


class PermanentError(Exception):
    """Delivery can never work for this address (rejected recipient, bad URL, 4xx HTTP)."""


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


Sender = Callable[[Outgoing, Settings], None]
T = TypeVar("T")


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
    return asyncio.run_coroutine_threadsafe(coro, _send_loop())


_loop: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
_loop_lock = threading.Lock()


def _send_loop() -> asyncio.AbstractEventLoop:
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


def warm_up() -> None:
    """Import the senders and start the send loop now, not on the first page: a webhook's
    first send in a process imported aiohttp (~0.3 s) while the page waited. Called when a
    worker's delivery job first runs."""
    import tocsin.notify.apprise_channel.sender
    import tocsin.notify.email.sender
    import tocsin.notify.webhook.sender  # noqa: F401

    _send_loop()


def _email(out: Outgoing, settings: Settings) -> None:
    from tocsin.notify.email.sender import send

    send(out, settings)


async def _webhook(out: Outgoing, settings: Settings) -> None:
    from tocsin.notify.webhook.sender import send

    await send(out, settings)


def _apprise(out: Outgoing, settings: Settings) -> None:
    from tocsin.notify.apprise_channel.sender import send

    send(out, settings)


SENDERS: Mapping[ChannelKind, Sender] = {
    ChannelKind.EMAIL: _email,
    ChannelKind.WEBHOOK: AsyncSender(_webhook),
    **{k: _apprise for k in ChannelKind if k not in (ChannelKind.EMAIL, ChannelKind.WEBHOOK)},
}


def address_problem(kind: ChannelKind, address: str, policy: OutboundPolicy) -> str | None:
    """Why `address` cannot work for `kind` (None when it looks usable), or why the server
    must not send to it (a URL whose host is, or now resolves to, an internal address that
    `policy` does not allow). Looks names up: call it where blocking is fine."""
    if kind is ChannelKind.EMAIL:
        local, _, domain = address.partition("@")
        return None if (local and "." in domain) or domain == "localhost" else \
            f"'{address}' is not an email address"
    if kind is ChannelKind.WEBHOOK:
        if not address.startswith(("http://", "https://")):
            return "a webhook address is an http:// or https:// URL"
        reason = url_refusal(address, policy)
        return None if reason is None else refused_message(reason)
    from tocsin.notify.apprise_channel.sender import url_problem

    scheme = address.split("://", 1)[0].lower() if "://" in address else ""
    allowed = APPRISE_SCHEMES.get(kind)
    if allowed is not None and scheme not in allowed:
        return (f"a {kind.value} address is an Apprise URL starting with "
                + " or ".join(f"{s}://" for s in allowed))
    return url_problem(address, policy)
