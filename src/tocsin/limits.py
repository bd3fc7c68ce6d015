"""What the databases can hold, as types and checks for the edge (API, web, intake).

A value the database cannot store used to get as far as the INSERT or the WHERE and fail
there with a 500 (or, for intake, be accepted and then fail triage three times). These
limits are checked where a request is read instead, so the sender hears a 4xx in its own
error shape and nothing is stored. They are the stricter of SQLite's and PostgreSQL's:

- integers: ids and counts are `Integer` columns, 32-bit on PostgreSQL (SQLite's 64-bit
  limit is wider); intake inbox ids are 64-bit;
- text: PostgreSQL refuses NUL characters in text and JSON; SQLite would store them, so
  both refuse them, the same everywhere;
- timestamps: stored as naive UTC, so an instant must lie within years 1..9999 once
  converted to UTC (`9999-12-31T23:59:59-14:00` does not).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, field_validator

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# A row id of an `Integer` primary key (SQLite: 64-bit; PostgreSQL: 32-bit `integer`).
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
# A row id of a `BigInteger` primary key (intake inbox rows).
BigId = Annotated[int, Field(ge=1, le=INT64_MAX)]
# A non-negative quantity stored in an `Integer` column.
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
# Any value of an `Integer` column.
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
# A day of the week, 0 = Monday … 6 = Sunday.
Weekday = Annotated[int, Field(ge=0, le=6)]

NUL = "\x00"
NUL_MESSAGE = "NUL (\\u0000) characters are not accepted"


def in_utc_range(value: datetime) -> bool:
    """Whether an aware instant can be stored (its UTC time within years 1..9999)."""
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def _storable(value: datetime) -> datetime:
    if value.tzinfo is not None and not in_utc_range(value):
        raise ValueError("out of range: the instant must fall within years 1 to 9999 in UTC")
    return value


# An instant with a time zone that the database can store.
Timestamp = Annotated[AwareDatetime, AfterValidator(_storable)]
# As `Timestamp`, for fields whose own validator decides about naive values.
StorableDatetime = Annotated[datetime, AfterValidator(_storable)]


def _no_nul(value: str) -> str:
    if NUL in value:
        raise ValueError(NUL_MESSAGE)
    return value


# Text the databases can store (for query and path parameters outside the request guard).
Text = Annotated[str, AfterValidator(_no_nul)]


def whole_number(text: str, *, high: int = INT32_MAX) -> int | None:
    """The number `text` writes in ASCII digits if it is at most `high`, else None.
    (`str.isdigit` also takes digits such as "²" that `int` refuses.)"""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if value <= high else None


def _present(value: object) -> object:
    if value is None:
        raise ValueError("may not be null: leave the field out to keep its value")
    return value


def not_null(*names: str) -> Any:
    """A PATCH schema's validator for fields whose columns are NOT NULL: such a field may be
    left out (kept as it is) but not sent as `null`. (Field validators do not run on
    defaults, so only an explicit `null` is refused.)"""
    return field_validator(*names, mode="before")(_present)


def fit(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters; else its start followed by a hash of the
    whole, `limit` long, so distinct long keys stay distinct in a `String(limit)` column."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{text[:limit - len(digest) - 1]}#{digest}"
