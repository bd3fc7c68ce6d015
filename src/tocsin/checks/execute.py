"""Run one check of any kind with a hard deadline. Shared by the server runner and probes."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError

from tocsin.checks.kinds import database, dns, http, mysql, tcp, tls
from tocsin.checks.kinds.base import Outcome, Resources, describe, failure
from tocsin.checks.models import CheckKind
from tocsin.checks.schemas import (
    CONFIG_MODELS,
    DnsConfig,
    HttpConfig,
    MysqlConfig,
    PostgresConfig,
    TcpConfig,
    TlsConfig,
)

# Slack for the outer deadline so a kind's own, more precise timeout message wins.
DEADLINE_SLACK = 0.5


async def _dispatch(kind: CheckKind, config: Any, timeout: float,
                    resources: Resources) -> Outcome:
    if isinstance(config, HttpConfig):
        return await http.run(config, timeout=timeout, resources=resources)
    if isinstance(config, TcpConfig):
        return await tcp.run(config, timeout=timeout, resources=resources)
    if isinstance(config, TlsConfig):
        return await tls.run(config, timeout=timeout, resources=resources)
    if isinstance(config, DnsConfig):
        return await dns.run(config, timeout=timeout)
    if isinstance(config, PostgresConfig):
        return await database.run(config, timeout=timeout)
    if isinstance(config, MysqlConfig):
        return await mysql.run(config, timeout=timeout)
    return failure(f"unsupported check kind '{kind}'")


async def execute(kind: CheckKind | str, config: dict[str, Any], timeout: float,
                  resources: Resources) -> Outcome:
    """Never raises and never outlives `timeout` (plus a little): every way a target can
    misbehave — hang, reset, garbage, endless body — ends as a failed Outcome with a reason."""
    try:
        kind = CheckKind(kind)
        parsed = CONFIG_MODELS[kind].model_validate(config)
    except (ValueError, ValidationError) as exc:
        return failure(f"invalid check settings: {describe(exc)}")
    try:
        async with asyncio.timeout(timeout + DEADLINE_SLACK):
            return await _dispatch(kind, parsed, timeout, resources)
    except TimeoutError:
        return failure(f"timed out after {timeout:g}s")
    except Exception as exc:
        return failure(describe(exc))
