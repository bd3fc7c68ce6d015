"""Small pure helpers the formats share: JSON decoding with the database's limits,
timestamps, classification signals, string maps, and the shape of a stored request."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from tocsin.intake.errors import BadInput
from tocsin.limits import in_utc_range

SIGNAL_NAMES = ("error_rate", "users_affected_pct", "p99_ms", "dependent_services",
                "data_loss", "security")


class Stored(Protocol):
    """An accepted request as the inbox keeps it (`intake.models.InboxRow`)."""

    @property
    def integration_id(self) -> int: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def body(self) -> str: ...
    @property
    def meta(self) -> dict[str, Any]: ...


def decode_json(body: bytes | bytearray) -> tuple[Any, str]:
    """The parsed body and its text; BadInput for malformed JSON or what the database
    cannot store."""
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
