"""Run one check of any kind with a hard deadline. Shared by the server runner and probes."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ValidationError

from tocsin.checks.kinds import database, dns, http, mysql, tcp, tls
from tocsin.checks.kinds.base import CheckOutcome, Resources, describe, failure
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
                    resources: Resources) -> CheckOutcome:
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


def parse(kind: CheckKind | str, config: dict[str, Any]) -> BaseModel | str:
    """The kind's validated settings, or why they are invalid."""
    try:
        return CONFIG_MODELS[CheckKind(kind)].model_validate(config)
    except (ValueError, ValidationError) as exc:
        return f"invalid check settings: {describe(exc)}"


def parse_json(kind: CheckKind | str, text: str) -> BaseModel | str:
    """`parse` for settings still in their stored JSON text: one pass, not decode then validate."""
    try:
        return CONFIG_MODELS[CheckKind(kind)].model_validate_json(text)
    except (ValueError, ValidationError) as exc:
        return f"invalid check settings: {describe(exc)}"


async def execute(kind: CheckKind | str, config: dict[str, Any] | BaseModel, timeout: float,
                  resources: Resources) -> CheckOutcome:
    """Never raises and never outlives `timeout` (plus a little): every way a target can
    misbehave — hang, reset, garbage, endless body — ends as a failed CheckOutcome with a reason.

    `config` may be already parsed (`parse`): a runner reuses it between runs of a check.
    """
    parsed = parse(kind, config) if isinstance(config, dict) else config
    if isinstance(parsed, str):
        return failure(parsed)
    try:
        if isinstance(parsed, HttpConfig):
            # Bounded by its own deadline around the whole exchange (http.run): a second
            # timer per check would cost the runner CPU on every plain HTTP check.
            return await http.run(parsed, timeout=timeout, resources=resources)
        async with asyncio.timeout(timeout + DEADLINE_SLACK):
            return await _dispatch(CheckKind(kind), parsed, timeout, resources)
    except TimeoutError:
        return failure(f"timed out after {timeout:g}s")
    except Exception as exc:
        return failure(describe(exc))
