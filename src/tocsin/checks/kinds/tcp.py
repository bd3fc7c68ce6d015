"""TCP checks: the port accepts a connection."""

from __future__ import annotations

import asyncio
import contextlib
import time

from tocsin.checks.kinds.base import CheckOutcome, Resources, describe, failure
from tocsin.checks.schemas import TcpConfig


async def run(cfg: TcpConfig, *, timeout: float, resources: Resources) -> CheckOutcome:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(cfg.host, cfg.port,
                                                         local_addr=resources.local_addr)
    except TimeoutError:
        return failure(f"no connection to {cfg.host}:{cfg.port} within {timeout:g}s")
    except OSError as exc:
        return failure(f"cannot connect to {cfg.host}:{cfg.port}: {describe(exc)}")
    latency = int((time.perf_counter() - started) * 1000)
    writer.close()
    with contextlib.suppress(OSError):  # the peer closing first is not a failure
        await writer.wait_closed()
    return CheckOutcome(ok=True, latency_ms=latency)
