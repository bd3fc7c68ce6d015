"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii

from tocsin.errors import Invalid


def encode(value: int) -> str:
    return base64.urlsafe_b64encode(f"i:{value}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "i":
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor: not a cursor this server issued; start again without it") from None
