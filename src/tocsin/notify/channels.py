"""The one registry of channels: which sender serves each kind of contact method.

The contract itself (Outgoing, the two errors, AsyncSender) is in contract.py, which the
senders import. Dedup, rate limits, retries and recording are pipeline stages around a
sender (pipeline.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from tocsin.notify.contract import (
    APPRISE_SCHEMES,
    AsyncSender,
    ChannelKind,
    Handover,
    HandoverSender,
    Outgoing,
    Sender,
    send_loop,
)
from tocsin.outbound import OutboundPolicy, refused_message, url_refusal
from tocsin.settings import Settings


def warm_up() -> None:
    """Import the senders and start the send loop now, not on the first page: a webhook's
    first send in a process imported aiohttp (~0.3 s) while the page waited. Called when a
    worker's delivery job first runs."""
    import tocsin.notify.apprise_channel.sender
    import tocsin.notify.email.sender
    import tocsin.notify.ntfy.sender
    import tocsin.notify.webhook.sender  # noqa: F401

    send_loop()


def _email(out: Outgoing, settings: Settings, handover: Handover) -> None:
    from tocsin.notify.email.sender import send

    send(out, settings, handover)


async def _webhook(out: Outgoing, settings: Settings) -> None:
    from tocsin.notify.webhook.sender import send

    await send(out, settings)


def _ntfy(out: Outgoing, settings: Settings) -> None:
    from tocsin.notify.ntfy.sender import send

    send(out, settings)


def _voice(out: Outgoing, settings: Settings) -> None:
    from tocsin.notify.twilio_voice.sender import send

    send(out, settings)


def _apprise(out: Outgoing, settings: Settings) -> None:
    from tocsin.notify.apprise_channel.sender import send

    send(out, settings)


SENDERS: Mapping[ChannelKind, Sender] = {
    ChannelKind.EMAIL: HandoverSender(_email),  # recorded sent the moment it was accepted
    ChannelKind.WEBHOOK: AsyncSender(_webhook),
    ChannelKind.NTFY: _ntfy,  # native: action buttons (Acknowledge, Open)
    ChannelKind.VOICE: _voice,  # a Twilio call answered by Tocsin's TwiML (1 ack, 2 escalate)
    **{k: _apprise for k in ChannelKind
       if k not in (ChannelKind.EMAIL, ChannelKind.WEBHOOK, ChannelKind.NTFY,
                    ChannelKind.VOICE)},
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
