"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii

from tocsin.errors import Invalid
from tocsin.limits import INT64_MAX, whole_number


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
