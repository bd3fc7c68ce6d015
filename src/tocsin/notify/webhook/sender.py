"""Generic outgoing webhooks, signed with HMAC-SHA256 over the raw body.

Header `X-Tocsin-Signature: sha256=<hex>[,sha256=<hex>]` carries one signature per active
secret (two during a rotation), so a receiver that knows either secret accepts the request.

Sent with aiohttp on the send loop (channels.AsyncSender), not httpx in a thread each: on
loopback a page in a batch costs 180-190 µs of CPU against 510-760 µs (docs/paging.md),
and at hundreds of pages a second that CPU is interpreter lock taken from triage.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import hmac
import json
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from tocsin.notify.channels import Outgoing, PermanentError, TemporaryError, on_send_loop
from tocsin.settings import Settings

HEADER = "X-Tocsin-Signature"


@dataclass(frozen=True)
class _Pool:
    loop: asyncio.AbstractEventLoop
    session: aiohttp.ClientSession
    proxies: dict[str, str]  # by scheme, from HTTP_PROXY / HTTPS_PROXY


# One pooled session per process, on the send loop (channels.on_send_loop): building one per
# page (and its TLS context) costs tens of milliseconds. Only the send loop's thread touches
# it, so it needs no lock; a new loop (a forked child) gets a new session.
_pool: _Pool | None = None


def _pooled() -> _Pool:
    global _pool
    loop = asyncio.get_running_loop()
    if _pool is None or _pool.loop is not loop or _pool.session.closed:
        # Proxies are read here, once, as httpx did: aiohttp's trust_env looks them up again
        # for every request, in a thread (it tripled a page's CPU). No cookie jar: one
        # receiver's cookies have no business in later pages.
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64),
                                        cookie_jar=aiohttp.DummyCookieJar())
        _pool = _Pool(loop, session, urllib.request.getproxies())
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


async def send(out: Outgoing, settings: Settings) -> None:
    """POST the page; `webhook_timeout_seconds` bounds the whole exchange. Redirects are not
    followed (a 3xx is a permanent failure, as before): the receiver's address is wrong."""
    body, headers = _request(out, settings)
    limit = settings.webhook_timeout_seconds
    pool = _pooled()
    try:
        async with pool.session.post(out.address, data=body, headers=headers,
                                     proxy=_proxy(out.address, pool.proxies),
                                     allow_redirects=False,
                                     timeout=aiohttp.ClientTimeout(total=limit)) as r:
            await r.read()  # to the end, so the connection goes back to the pool
            status = r.status
    except TimeoutError as exc:
        raise TemporaryError(f"webhook {out.address}: timed out after {limit:g} s") from exc
    except aiohttp.ClientError as exc:
        raise TemporaryError(f"webhook {out.address}: {str(exc) or type(exc).__name__}") from exc
    if status < 300:
        return
    err = f"webhook {out.address} answered {status}"
    if status in (408, 425, 429) or status >= 500:
        raise TemporaryError(err)
    raise PermanentError(err)
