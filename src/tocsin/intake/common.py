"""Shared intake plumbing: bounded body reading, the in-flight gate, integration lookup and
the accept step (an inbox row committed before the answer). Parsers stay pure; this module
does the I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Integration
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.keys import IntegrationRef, KeyCache
from tocsin.intake.models import InboxStatus
from tocsin.intake.writer import InboxWriter
from tocsin.limits import in_utc_range
from tocsin.runtime import Runtime

SIGNAL_NAMES = ("error_rate", "users_affected_pct", "p99_ms", "dependent_services",
                "data_loss", "security")


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
    if not key or len(key) > 64 or "\x00" in key:  # PostgreSQL cannot compare NUL
        raise UnknownKey
    integration = session.scalars(select(Integration).where(Integration.key == key)).first()
    if integration is None or not integration.enabled or integration.kind not in kinds:
        raise UnknownKey
    return integration


def unknown_key_status(request: Request) -> int:
    """401 for an anonymous sender; 403 when it authenticated as a user, since an API key
    does not open an integration's URL."""
    return 403 if request.headers.get("authorization") else 401


class Hub:
    """One process's intake: the in-flight gate, the key cache and the inbox writer."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.gate = Gate(runtime.settings.intake_max_in_flight)
        self.keys = KeyCache(runtime)
        self.writer = InboxWriter(runtime)

    async def accept(self, row: dict[str, Any]) -> None:
        """Store one inbox row; returns once it is committed. Raises Overloaded when the
        process already holds its limit of requests in progress (nothing is stored)."""
        self.gate.enter()
        try:
            await self.writer.submit(row)
        finally:
            self.gate.leave()


def hub_of(request: Request) -> Hub:
    state = request.app.state
    hub: Hub | None = getattr(state, "intake", None)
    if hub is None:
        hub = Hub(state.runtime)
        state.intake = hub
    return hub


def inbox_row(integration: IntegrationRef, fmt: str, body: str, *, received_at: datetime,
              meta: dict[str, Any] | None = None, request_id: str | None = None
              ) -> dict[str, Any]:
    return {"received_at": received_at, "integration_id": integration.id, "format": fmt,
            "body": body, "meta": meta or {}, "request_id": request_id,
            "status": InboxStatus.PENDING.value, "attempts": 0}


# ---- small pure helpers for parsers --------------------------------------------------------

def parse_time(value: Any, default: datetime, errors: list[str], name: str) -> datetime:
    """ISO 8601 with a zone; anything unusable falls back to `default` (arrival time), as
    senders' clocks and formats vary and a bad timestamp must not lose the alert. A valid
    instant the database cannot store (after year 9999 in UTC, e.g.
    `9999-12-31T23:59:59-14:00`) is refused instead: an error for `name` in `errors`."""
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
    if not in_utc_range(parsed):
        errors.append(f"'{name}' is out of range: it must fall within years 1 to 9999 in UTC")
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
