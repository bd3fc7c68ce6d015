"""Posted forms into validated request models, with messages per field for the page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from tocsin.errors import TocsinError
from tocsin.limits import INT32_MAX, whole_number

M = TypeVar("M", bound=BaseModel)


class FormErrors(Exception):
    """Field name -> message; the page shows each next to its field and keeps the values."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def ints(form: FormData, name: str) -> list[int]:
    out = []
    for value in form.getlist(name):
        number = whole_number(value.strip()) if isinstance(value, str) else None
        if number is not None:
            out.append(number)
    return out


def optional_int(form: FormData, name: str, errors: dict[str, str]) -> int | None:
    raw = text(form, name)
    if not raw:
        return None
    number = whole_number(raw.removeprefix("-"))
    if number is None:
        errors[name] = f"enter a whole number up to {INT32_MAX}"
        return None
    return -number if raw.startswith("-") else number


def when(form: FormData, name: str, zone: str, errors: dict[str, str]) -> datetime | None:
    """A datetime-local field, read in the user's time zone, as aware UTC."""
    raw = text(form, name)
    if not raw:
        return None
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        errors[name] = "enter a date and time like 2026-01-05 14:30"
        return None
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=ZoneInfo(zone))
    return naive.astimezone(UTC)


def checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def build(model: type[M], values: dict[str, Any], errors: dict[str, str] | None = None) -> M:
    """Validate into `model`; raises FormErrors listing every bad field (plus `errors`)."""
    found = dict(errors or {})
    try:
        result = model.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            field = loc[0] if loc else "form"
            message = _friendly(err)
            found.setdefault(field, message)
        raise FormErrors(found) from None
    if found:
        raise FormErrors(found)
    return result


def _friendly(err: Any) -> str:
    """Pydantic's messages, reworded where a person filling a form would stumble."""
    kind, ctx = err.get("type", ""), err.get("ctx", {})
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "this is required"
    if kind == "string_too_short":
        return f"use at least {ctx['min_length']} characters"
    if kind == "string_too_long":
        return f"use at most {ctx['max_length']} characters"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "enter a whole number"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"enter a number {words} {limit}"
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if message.startswith("value is not a valid email address"):
        return "enter an email address, like ana@example.com"
    return message


def from_domain(exc: TocsinError) -> dict[str, str]:
    """A service error such as 'depends_on: would make a cycle' as a field message."""
    field, sep, message = exc.detail.partition(": ")
    if sep and field.replace("_", "").replace("/", "").replace(".", "").isalnum():
        return {field.split("/")[0]: message}
    return {"form": exc.detail}
