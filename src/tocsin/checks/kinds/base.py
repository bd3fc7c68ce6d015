"""What every check type returns, and the shared per-runner resources they reuse."""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass, field

import httpx

REASON_MAX = 500
CLIENT_SHARDS = 32


@dataclass(frozen=True)
class Outcome:
    ok: bool
    latency_ms: int | None = None
    reason: str | None = None


def failure(reason: str, latency_ms: int | None = None) -> Outcome:
    return Outcome(ok=False, latency_ms=latency_ms, reason=reason[:REASON_MAX])


def describe(exc: BaseException) -> str:
    """`Type: message`, borrowing the underlying error's words when the wrapper has none
    (httpx's ReadError around a ConnectionResetError says nothing by itself)."""
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

    Building an SSLContext loads the system CA store (~10 ms); an httpx client keeps a
    connection pool. Both are made once per distinct setting, not per check run.
    """

    max_body_bytes: int = 1_048_576
    # Outgoing connections leave from this address (a probe host with several networks).
    local_address: str | None = None
    _contexts: dict[tuple[bool, str], ssl.SSLContext] = field(default_factory=dict)
    _clients: dict[tuple[bool, str, bool, int], httpx.AsyncClient] = field(default_factory=dict)
    _turn: int = 0

    def ssl_context(self, *, verify: bool, ca_pem: str | None) -> ssl.SSLContext:
        key = (verify, hashlib.sha256((ca_pem or "").encode()).hexdigest())
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

    def http_client(self, *, verify: bool, ca_pem: str | None,
                    fresh: bool = False) -> httpx.AsyncClient:
        # httpcore scans every pooled connection for each request it places (O(pool) per
        # request, O(n²) under load); several small pools used in turn keep that scan short.
        self._turn = (self._turn + 1) % CLIENT_SHARDS
        key = (verify, hashlib.sha256((ca_pem or "").encode()).hexdigest(), fresh, self._turn)
        client = self._clients.get(key)
        if client is None:
            limits = (httpx.Limits(max_keepalive_connections=0) if fresh
                      else httpx.Limits(max_connections=64, max_keepalive_connections=16))
            context = self.ssl_context(verify=verify, ca_pem=ca_pem)
            transport = httpx.AsyncHTTPTransport(verify=context, limits=limits,
                                                 local_address=self.local_address)
            client = httpx.AsyncClient(transport=transport, trust_env=False,
                                       headers={"User-Agent": "tocsin-check/1"})
            self._clients[key] = client
        return client

    @property
    def local_addr(self) -> tuple[str, int] | None:
        """For asyncio.open_connection(local_addr=...)."""
        return (self.local_address, 0) if self.local_address else None

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
