"""Generic outgoing webhooks, signed with HMAC-SHA256 over the raw body.

Header `X-Tocsin-Signature: sha256=<hex>[,sha256=<hex>]` carries one signature per active
secret (two during a rotation), so a receiver that knows either secret accepts the request.

Only to public addresses unless the admin allows others (`outbound_allow`): the session's
resolver refuses a name whose answer is internal, at send time, so the address connected
to is the address checked (a name that answered a public address when the method was added
and now answers 127.0.0.1 is caught); an address written in the URL is checked before the
request, since aiohttp connects to it without asking the resolver.

Sent with aiohttp on the send loop (contract.AsyncSender), not httpx in a thread each: a
page costs a fraction of the CPU (figures in docs/paging.md), and at hundreds of pages a
second that CPU is interpreter lock taken from triage.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import hmac
import json
import socket
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from tocsin.notify.contract import Outgoing, PermanentError, TemporaryError, on_send_loop
from tocsin.outbound import (
    OutboundPolicy,
    RefusedTarget,
    checked_answers,
    host_refusal,
    literal_refusal,
    refused_message,
)
from tocsin.settings import Settings

HEADER = "X-Tocsin-Signature"


class GuardedResolver(AbstractResolver):
    """Resolves as aiohttp would, then raises RefusedTarget if any answer is an address
    `policy` refuses. Proxy hosts from the environment are the admin's and pass."""

    def __init__(self, policy: OutboundPolicy, trusted: frozenset[str]) -> None:
        self._inner = DefaultResolver()
        self._policy, self._trusted = policy, trusted

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if host.lower() not in self._trusted:
            checked_answers(host, (a["host"] for a in answers), self._policy)
        return answers

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True)
class _Pool:
    loop: asyncio.AbstractEventLoop
    session: aiohttp.ClientSession
    proxies: dict[str, str]  # by scheme, from HTTP_PROXY / HTTPS_PROXY
    policy: OutboundPolicy


# One pooled session per process, on the send loop (contract.on_send_loop): building one per
# page (and its TLS context) costs tens of milliseconds. Only the send loop's thread touches
# it, so it needs no lock; a new loop (a forked child) gets a new session.
_pool: _Pool | None = None


async def _pooled(policy: OutboundPolicy) -> _Pool:
    global _pool
    loop = asyncio.get_running_loop()
    if _pool is not None and _pool.loop is loop and _pool.policy != policy:
        # The resolver holds the policy. Settings do not change in a running server; only
        # tests send under two policies, one after the other.
        old, _pool = _pool.session, None
        await old.close()
    if _pool is None or _pool.loop is not loop or _pool.session.closed:
        # Proxies are read here, once, as httpx did: aiohttp's trust_env looks them up again
        # for every request, in a thread (it tripled a page's CPU). No cookie jar: one
        # receiver's cookies have no business in later pages.
        proxies = urllib.request.getproxies()
        trusted = frozenset((urlsplit(p).hostname or "").lower() for p in proxies.values())
        connector = aiohttp.TCPConnector(limit=64, resolver=GuardedResolver(policy, trusted))
        session = aiohttp.ClientSession(connector=connector,
                                        cookie_jar=aiohttp.DummyCookieJar())
        _pool = _Pool(loop, session, proxies, policy)
        atexit.unregister(_close_at_exit)
        atexit.register(_close_at_exit)
    return _pool


def _proxy(url: str, proxies: dict[str, str]) -> str | None:
    """The proxy the environment names for `url`; None: connect directly (also when
    NO_PROXY exempts the host, checked only when a proxy is set)."""
    proxy = proxies.get(url.partition("://")[0])
    if proxy is None or urllib.request.proxy_bypass(urlsplit(url).hostname or ""):
        return None
    return proxy


async def close() -> None:
    """Close the pooled session; the next page opens a new one (reading proxies again)."""
    global _pool
    if _pool is not None:
        session, _pool = _pool.session, None
        await session.close()


def _close_at_exit() -> None:
    # The send loop's thread is a daemon: it still runs while atexit handlers do. Closing
    # spares every shutdown an "Unclosed client session" warning.
    with contextlib.suppress(Exception):
        on_send_loop(close()).result(timeout=2)


def _check_literal(url: str, policy: OutboundPolicy) -> None:
    """What the resolver cannot see: an address written in the URL (aiohttp connects to
    it without a lookup)."""
    reason = literal_refusal(urlsplit(url).hostname or "", policy)
    if reason is not None:
        raise RefusedTarget(reason)


async def _check_proxied(url: str, policy: OutboundPolicy) -> None:
    """Through a proxy, the proxy looks the target up, out of our sight: judge the URL's
    host as it resolves here, the best that can be done (docs/paging.md)."""
    host = urlsplit(url).hostname or ""
    reason = await asyncio.get_running_loop().run_in_executor(None, host_refusal, host, policy)
    if reason is not None:
        raise RefusedTarget(reason)


def sign(body: bytes, secrets: list[str]) -> str:
    return ",".join("sha256=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest()
                    for s in secrets)


def verify(body: bytes, header: str, secret: str) -> bool:
    """Receiver side: does any signature in `header` match `secret`?"""
    want = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(part.strip().removeprefix("sha256="), want)
               for part in header.split(","))


def _request(out: Outgoing, settings: Settings) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"subject": out.subject, "text": out.text, **out.data},
                      separators=(",", ":"), sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Tocsin"}
    secrets = [s.get_secret_value() for s in settings.webhook_signing_secrets]
    if secrets:
        headers[HEADER] = sign(body, secrets)
    if "idempotency_key" in out.data:
        headers["Idempotency-Key"] = str(out.data["idempotency_key"])
    return body, headers


@dataclass(frozen=True)
class Answer:
    """What a guarded POST got: the receiver's status, or why there is none."""

    status: int | None
    error: str | None = None  # no answer: refused, timed out, or a network error
    refused: bool = False  # the target's address is one the outbound policy refuses


async def post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> Answer:
    """POST `body` through the pooled session, whose resolver judges every answer by the
    outbound policy: the address connected to is the address checked (no DNS rebinding
    between a check and the connect); an address written in the URL is judged first.
    Redirects are not followed: the receiver's address is wrong, and a redirect could point
    anywhere. `webhook_timeout_seconds` bounds the whole exchange."""
    limit = settings.webhook_timeout_seconds
    policy = settings.outbound_policy
    pool = await _pooled(policy)
    proxy = _proxy(url, pool.proxies)
    try:
        if proxy is None:
            _check_literal(url, policy)
        else:  # a name lookup, which may hang: within the timeout (costly, so only here)
            await asyncio.wait_for(_check_proxied(url, policy), limit)
        async with pool.session.post(url, data=body, headers=headers, proxy=proxy,
                                     allow_redirects=False,
                                     timeout=aiohttp.ClientTimeout(total=limit)) as r:
            await r.read()  # to the end, so the connection goes back to the pool
            return Answer(r.status)
    except RefusedTarget as exc:
        return Answer(None, refused_message(str(exc)), refused=True)
    except TimeoutError:
        return Answer(None, f"timed out after {limit:g} s")
    except aiohttp.ClientError as exc:
        return Answer(None, str(exc) or type(exc).__name__)


def post_blocking(url: str, body: bytes, headers: dict[str, str],
                  settings: Settings) -> Answer:
    """post() from a thread other than the send loop's (the event webhooks' job)."""
    return on_send_loop(post(url, body, headers, settings)).result(
        timeout=settings.webhook_timeout_seconds + 30)


async def send(out: Outgoing, settings: Settings) -> None:
    """POST the page (post() above). A refused target is a permanent failure, as is a 3xx."""
    body, headers = _request(out, settings)
    answer = await post(out.address, body, headers, settings)
    status = answer.status
    if status is None:
        err = f"webhook {out.address}: {answer.error}"
        raise PermanentError(err) if answer.refused else TemporaryError(err)
    if status < 300:
        return
    err = f"webhook {out.address} answered {status}"
    if status in (408, 425, 429) or status >= 500:
        raise TemporaryError(err)
    raise PermanentError(err)
