"""Chat, push and SMS channels through Apprise (ntfy, Pushover, Slack, Teams, Telegram,
Discord, SMS gateways, …): the address is an Apprise URL.

Some Apprise URLs name the host to connect to (json://, ntfy://host/…, mmost://, mailto://
with a server, …), so a user could point one at an internal address. Adding one checks
that host (`url_problem`); sending checks every address Apprise's transports look up
(HTTP, SMTP, …, redirects included) while it runs (`_guarded_lookups`).
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import apprise

from tocsin.notify.contract import Outgoing, PermanentError, TemporaryError
from tocsin.outbound import (
    OutboundPolicy,
    RefusedTarget,
    checked_answers,
    host_refusal,
    refused_message,
)
from tocsin.settings import Settings


def _named_host(plugin: Any) -> str | None:
    """The host an Apprise URL makes the server connect to, when the user chooses it:
    only plugins whose URL forms take a {host} (a Discord or Slack URL's "host" is a
    token, and is neither looked up nor judged)."""
    templates = getattr(plugin, "templates", ())
    host = getattr(plugin, "host", None)
    if host and isinstance(host, str) and any("{host}" in t for t in templates):
        return host
    return None


def url_problem(url: str, policy: OutboundPolicy) -> str | None:
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return f"'{url}' is not an Apprise URL this server can use"
    host = _named_host(plugin)
    reason = None if host is None else host_refusal(host, policy)
    return None if reason is None else refused_message(reason)


# ---- the send-time guard ------------------------------------------------------------------------
# Apprise's transports (requests, smtplib, …) look names up with socket.getaddrinfo, each
# connection and each redirect. While `_GUARD` is set in the current context (Apprise
# copies the context into its worker threads) the wrapper checks every answer before the
# transport connects to it; elsewhere it only passes the call on.

class _Guard:
    def __init__(self, policy: OutboundPolicy, trusted: frozenset[str]) -> None:
        self.policy, self.trusted = policy, trusted
        self.refused: list[str] = []

    def check(self, host: Any, infos: list[Any]) -> None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower() in self.trusted:  # the proxy the admin configured
            return
        try:
            checked_answers(name, (str(info[4][0]) for info in infos), self.policy)
        except RefusedTarget as exc:
            self.refused.append(str(exc))
            # An OSError, as a failed lookup would be: the transport gives up on the host.
            raise socket.gaierror(socket.EAI_NONAME, str(exc)) from None


_GUARD: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar("tocsin_apprise_guard",
                                                                      default=None)
_install_lock = threading.Lock()


def _install() -> None:
    """Wrap socket.getaddrinfo (a plain pass-through outside Apprise sends); again if
    something replaced the wrapper since. Each wrapper keeps the function it wraps, so
    one put back later (a test's monkeypatch undone) still works."""
    with _install_lock:
        real = socket.getaddrinfo
        if getattr(real, "tocsin_guarded", False):
            return

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            infos = real(host, *args, **kwargs)
            guard = _GUARD.get()
            if guard is not None and host is not None:
                guard.check(host, infos)
            return infos

        getaddrinfo.tocsin_guarded = True  # type: ignore[attr-defined]
        socket.getaddrinfo = getaddrinfo


def _proxy_hosts() -> frozenset[str]:
    return frozenset((urlsplit(p).hostname or "").lower()
                     for p in urllib.request.getproxies().values()) - {""}


@contextlib.contextmanager
def _guarded_lookups(policy: OutboundPolicy) -> Iterator[_Guard]:
    _install()
    guard = _Guard(policy, _proxy_hosts())
    token = _GUARD.set(guard)
    try:
        yield guard
    finally:
        _GUARD.reset(token)


def send(out: Outgoing, settings: Settings) -> None:
    target = apprise.Apprise()
    if not target.add(out.address):
        raise PermanentError(f"'{out.address}' is not a usable Apprise URL")
    with _guarded_lookups(settings.outbound_policy) as guard:
        delivered = target.notify(body=out.text, title=out.subject)
    scheme = out.address.split("://")[0]
    if guard.refused:
        raise PermanentError(f"{scheme}://…: {refused_message(guard.refused[0])}")
    # Apprise reports only success or failure; a failure may be transient (network), so
    # it is retried with backoff until the attempts run out.
    if not delivered:
        raise TemporaryError(f"Apprise could not deliver to {scheme}://…")
