"""TLS certificate checks: chain validity, hostname match, days until expiry."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from datetime import UTC, datetime

from tocsin.checks.kinds.base import CheckOutcome, Resources, describe, failure
from tocsin.checks.schemas import TlsConfig


def days_left(not_after: str, now: datetime) -> float:
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    return (expires - now).total_seconds() / 86400


async def run(cfg: TlsConfig, *, timeout: float, resources: Resources) -> CheckOutcome:
    ctx = resources.ssl_context(verify=True, ca_pem=cfg.ca_pem)
    if not cfg.check_hostname:
        # Chain still verified; only the name comparison is skipped. Needs its own context.
        ctx = ssl.create_default_context(cadata=cfg.ca_pem) if cfg.ca_pem else \
            ssl.create_default_context()
        ctx.check_hostname = False
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(
                cfg.host, cfg.port, ssl=ctx, server_hostname=cfg.server_name or cfg.host,
                local_addr=resources.local_addr)
    except TimeoutError:
        return failure(f"no TLS handshake with {cfg.host}:{cfg.port} within {timeout:g}s")
    except ssl.SSLCertVerificationError as exc:
        return failure(f"certificate rejected: {exc.verify_message or describe(exc)}")
    except (ssl.SSLError, OSError) as exc:
        return failure(f"TLS connection to {cfg.host}:{cfg.port} failed: {describe(exc)}")
    latency = int((time.perf_counter() - started) * 1000)
    cert = writer.get_extra_info("peercert") or {}
    writer.close()
    # A peer that drops the connection after the handshake is not our failure.
    with contextlib.suppress(ssl.SSLError, OSError):
        await writer.wait_closed()
    not_after = cert.get("notAfter")
    if not isinstance(not_after, str):
        return failure("the server sent no certificate details", latency)
    left = days_left(not_after, datetime.now(UTC))
    if left < cfg.min_days_valid:
        return failure(f"certificate expires in {left:.1f} days (threshold "
                       f"{cfg.min_days_valid} days)", latency)
    return CheckOutcome(ok=True, latency_ms=latency)
