"""Shared intake plumbing: bounded body reading, the in-flight gate, integration lookup and
the commit-before-answer transaction. Parsers stay pure; this module does the I/O."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import Integration
from tocsin.alerts.normalized import NormalizedEvent
from tocsin.alerts.service import IngestResult, ingest_event
from tocsin.intake.batcher import Batcher
from tocsin.runtime import Runtime

SIGNAL_NAMES = ("error_rate", "users_affected_pct", "p99_ms", "dependent_services",
                "data_loss", "security")


class BadInput(Exception):
    """The sender's request is unusable; `errors` are messages for the sender."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class BodyTooLarge(Exception):
    pass


class UnknownKey(Exception):
    pass


class Overloaded(Exception):
    pass


class Gate:
    """Counts intake requests in progress. The event loop is single-threaded, so a plain
    integer is enough; past the limit requests are refused before anything is stored."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def enter(self) -> None:
        if self.in_flight >= self.limit:
            raise Overloaded
        self.in_flight += 1

    def leave(self) -> None:
        self.in_flight -= 1


def gate_of(request: Request, runtime: Runtime) -> Gate:
    gate: Gate | None = getattr(request.app.state, "intake_gate", None)
    if gate is None:
        gate = Gate(runtime.settings.intake_max_in_flight)
        request.app.state.intake_gate = gate
    return gate


async def read_json(request: Request, limit: int) -> tuple[Any, str]:
    """The parsed body and its text. Stops reading past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    text = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInput([f"Malformed JSON: {str(exc).splitlines()[0][:200]}"]) from None
    # PostgreSQL cannot store NUL characters or lone UTF-16 surrogates in text or JSONB;
    # refuse them here with a 400 rather than fail at commit with a 500.
    if "\\u0000" in text:
        raise BadInput(["Malformed JSON: \\u0000 (NUL) characters are not accepted"])
    if _SURROGATE.search(text):
        try:
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(["Malformed JSON: unpaired UTF-16 surrogate escape"]) from None
    return parsed, text


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def find_integration(session: Session, key: str, kinds: tuple[str, ...]) -> Integration:
    if not key or len(key) > 64:
        raise UnknownKey
    integration = session.scalars(select(Integration).where(Integration.key == key)).first()
    if integration is None or not integration.enabled or integration.kind not in kinds:
        raise UnknownKey
    return integration


# Known URL keys are remembered this long, so a flood is not checked against the database
# twice per request; the transaction re-checks the key anyway (disabling is authoritative).
KEY_CACHE_SECONDS = 5.0


def _key_exists(runtime: Runtime, key: str, kinds: tuple[str, ...]) -> bool:
    with runtime.sessions() as session:
        try:
            find_integration(session, key, kinds)
        except UnknownKey:
            return False
        return True


async def check_url_key(request: Request, runtime: Runtime, key: str,
                        kinds: tuple[str, ...]) -> None:
    """Refuse an unknown webhook URL key before reading the body (raises UnknownKey)."""
    cache: dict[tuple[str, tuple[str, ...]], float] | None = getattr(
        request.app.state, "intake_keys", None)
    if cache is None:
        cache = {}
        request.app.state.intake_keys = cache
    now = time.monotonic()
    if cache.get((key, kinds), 0.0) > now:
        return
    if not await run_in_threadpool(_key_exists, runtime, key, kinds):
        raise UnknownKey
    if len(cache) > 10_000:
        cache.clear()
    cache[(key, kinds)] = now + KEY_CACHE_SECONDS


def unknown_key_status(request: Request) -> int:
    """401 for an anonymous sender; 403 when it authenticated as a user, since an API key
    does not open an integration's URL."""
    return 403 if request.headers.get("authorization") else 401


EventBuilder = Callable[[Session, Integration, datetime], list[NormalizedEvent]]


def apply_sync(runtime: Runtime, *, key: str, kinds: tuple[str, ...], build: EventBuilder,
               raw: str) -> list[IngestResult]:
    """Look up the integration, build the events and ingest them in ONE transaction that
    commits before returning: a 2xx is only ever sent for committed events, and an error
    anywhere stores nothing."""
    now = runtime.clock.now()
    with runtime.sessions() as session, session.begin():
        integration = find_integration(session, key, kinds)
        events = build(session, integration, now)
        return [ingest_event(session, e, now=now, settings=runtime.settings, raw=raw)
                for e in events]


async def apply(request: Request, runtime: Runtime, *, key: str, kinds: tuple[str, ...],
                build: EventBuilder, raw: str) -> list[IngestResult]:
    """Apply through the group-commit batcher; returns once the events are committed."""
    gate = gate_of(request, runtime)
    gate.enter()
    try:
        batcher: Batcher | None = getattr(request.app.state, "intake_batcher", None)
        if batcher is None:
            batcher = Batcher(runtime)
            request.app.state.intake_batcher = batcher
        return await batcher.submit(key=key, kinds=kinds, build=build, raw=raw)
    finally:
        gate.leave()


# ---- small pure helpers for parsers --------------------------------------------------------

def parse_time(value: Any, default: datetime) -> datetime:
    """ISO 8601 with a zone; anything unusable falls back to `default` (arrival time), as
    senders' clocks and formats vary and a bad timestamp must not lose the alert."""
    if not isinstance(value, str) or not value:
        return default
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Go writes nanoseconds; Python takes at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return default
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year < 1971:  # Go's zero time "0001-01-01T00:00:00Z" means "unset"
        return default
    return parsed.astimezone(UTC)


def signals_from(details: Mapping[str, Any]) -> dict[str, float | bool]:
    """Classification signals a sender put in its details (custom_details, annotations)."""
    out: dict[str, float | bool] = {}
    for name in SIGNAL_NAMES:
        value = details.get(name)
        if isinstance(value, bool):
            out[name] = value
        elif isinstance(value, int | float):
            out[name] = float(value)
        elif isinstance(value, str):
            low = value.strip().lower()
            if low in ("true", "false"):
                out[name] = low == "true"
            else:
                try:
                    out[name] = float(low.rstrip("%"))
                except ValueError:
                    continue
    return out


def string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k)[:200]: (v if isinstance(v, str) else json.dumps(v))[:2000]
            for k, v in value.items()}
