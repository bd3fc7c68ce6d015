"""What every check type returns, and the shared per-runner resources they reuse."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import aiohttp

REASON_MAX = 500


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    latency_ms: int | None = None
    reason: str | None = None


def failure(reason: str, latency_ms: int | None = None) -> CheckOutcome:
    return CheckOutcome(ok=False, latency_ms=latency_ms, reason=reason[:REASON_MAX])


def describe(exc: BaseException) -> str:
    """`Type: message`, borrowing the underlying error's words when the wrapper has none
    (a client's wrapper around a ConnectionResetError may say nothing by itself)."""
    text = str(exc).strip()
    inner = exc.__cause__ or exc.__context__
    while not text and inner is not None:
        if str(inner).strip():
            text = f"{type(inner).__name__}: {str(inner).strip()}"
        inner = inner.__cause__ or inner.__context__
    return f"{type(exc).__name__}: {text or 'no details'}"[:REASON_MAX]


@dataclass
class Resources:
    """Clients and TLS contexts shared by all checks of one runner.

    Building an SSLContext loads the system CA store (slow); an HTTP session keeps a
    connection pool. Both are made once per distinct setting, not per check run. Sessions
    belong to the event loop that first asks for them: use one Resources per loop.
    """

    max_body_bytes: int = 1_048_576
    # Outgoing connections leave from this address (a probe host with several networks).
    local_address: str | None = None
    # Keyed by the CA text itself: a runner reuses each check's parsed settings, so the same
    # string object comes back and its hash is cached (not computed anew each run).
    _contexts: dict[tuple[bool, str], ssl.SSLContext] = field(default_factory=dict)
    _sessions: dict[tuple[bool, str, bool], aiohttp.ClientSession] = field(default_factory=dict)

    def ssl_context(self, *, verify: bool, ca_pem: str | None) -> ssl.SSLContext:
        key = (verify, ca_pem or "")
        ctx = self._contexts.get(key)
        if ctx is None:
            if not verify:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            elif ca_pem:
                ctx = ssl.create_default_context(cadata=ca_pem)
            else:
                ctx = ssl.create_default_context()
            self._contexts[key] = ctx
        return ctx

    def http_session(self, *, verify: bool, ca_pem: str | None,
                     fresh: bool = False) -> aiohttp.ClientSession:
        """A pooled aiohttp session for these TLS settings (`fresh`: no connection reuse).

        aiohttp rather than httpx for checks: a kept-alive GET costs a fraction of the CPU
        (figures in docs/detection.md).
        """
        key = (verify, ca_pem or "", fresh)
        session = self._sessions.get(key)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self.ssl_context(verify=verify, ca_pem=ca_pem), limit=0,
                force_close=fresh, local_addr=self.local_addr)
            # No cookie jar: one check's cookies must not leak into another's requests.
            session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                            cookie_jar=aiohttp.DummyCookieJar(),
                                            headers={"User-Agent": "tocsin-check/1"})
            self._sessions[key] = session
        return session

    @property
    def local_addr(self) -> tuple[str, int] | None:
        """For asyncio.open_connection(local_addr=...)."""
        return (self.local_address, 0) if self.local_address else None

    async def aclose(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
