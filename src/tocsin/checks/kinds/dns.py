"""DNS checks: a record of a type resolves (to the expected values) at a chosen resolver."""

from __future__ import annotations

import time

import dns.asyncresolver
import dns.exception
import dns.resolver

from tocsin.checks.kinds.base import CheckOutcome, describe, failure
from tocsin.checks.schemas import DnsConfig


def normalize(value: str) -> str:
    return value.strip().strip('"').rstrip(".").lower()


async def run(cfg: DnsConfig, *, timeout: float) -> CheckOutcome:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [cfg.resolver]
    resolver.port = cfg.port
    resolver.lifetime = timeout
    resolver.timeout = timeout
    started = time.perf_counter()
    try:
        answer = await resolver.resolve(cfg.name, cfg.record_type, raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return failure(f"{cfg.name}: no such domain (NXDOMAIN) at {cfg.resolver}")
    except dns.resolver.NoAnswer:
        return failure(f"{cfg.name}: no {cfg.record_type} record at {cfg.resolver}")
    except dns.exception.Timeout:
        return failure(f"{cfg.resolver} did not answer within {timeout:g}s")
    except dns.exception.DNSException as exc:
        return failure(f"DNS query failed: {describe(exc)}")
    latency = int((time.perf_counter() - started) * 1000)
    got = sorted(normalize(r.to_text()) for r in answer)
    if cfg.expected:
        want = sorted(normalize(v) for v in cfg.expected)
        missing = [v for v in want if v not in got]
        if missing or (cfg.exact and got != want):
            return failure(f"{cfg.record_type} {cfg.name} is {', '.join(got)}; expected "
                           f"{', '.join(want)}", latency)
    return CheckOutcome(ok=True, latency_ms=latency)
