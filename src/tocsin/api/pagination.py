"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from tocsin.errors import Invalid
from tocsin.limits import INT64_MAX, whole_number

T = TypeVar("T")
R = TypeVar("R")
MAX_LIMIT = 500


def encode(value: int) -> str:
    return base64.urlsafe_b64encode(f"i:{value}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        number = whole_number(value, high=INT64_MAX)
        if kind != "i" or number is None:
            raise ValueError
        return number
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor: not a cursor this server issued; start again without it") from None


class Page(BaseModel, Generic[T]):
    """The one shape of every list the API answers: a page of `items` in a stable order,
    and the cursor of the next page (null on the last one)."""

    items: list[T]
    next_cursor: str | None = None


# The `limit` query parameter of list routes.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def page(rows: Sequence[R], limit: int, convert: Callable[[R], T],
         key: Callable[[R], int]) -> Page[T]:
    """A page from `rows` fetched with `limit + 1` (the extra row says there is more); the
    cursor is the last row's key, for `key > cursor` (or `<` for newest-first lists)."""
    shown = list(rows[:limit])
    more = len(rows) > limit
    return Page(items=[convert(r) for r in shown],
                next_cursor=encode(key(shown[-1])) if more and shown else None)


def page_of_all(rows: Sequence[R], cursor: str | None, limit: int, convert: Callable[[R], T],
                key: Callable[[R], int]) -> Page[T]:
    """A page of a list loaded whole (short lists: policies, schedules, rules…), in key
    order after the cursor."""
    after = decode(cursor)
    ordered = sorted((r for r in rows if after is None or key(r) > after), key=key)
    return page(ordered[:limit + 1], limit, convert, key)
