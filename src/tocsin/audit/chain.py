"""The hash chain over audit entries: each entry's hash covers its fields and the hash of
the entry before it, so changing, inserting or deleting an entry in the middle breaks every
link after it. Pure: plain values in, hashes out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
# The fields a hash covers, in this order. `id` is included so that moving an entry is seen.
FIELDS = ("id", "at", "actor_id", "actor", "source", "action", "target", "target_id",
          "before", "after", "detail")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # Naive UTC and aware UTC must hash alike (the database hands back either).
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return value


def digest(prev_hash: str, entry: Mapping[str, Any]) -> str:
    body = json.dumps([prev_hash, *(_plain(entry.get(f)) for f in FIELDS)],
                      sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    entry_id: int
    reason: str


def first_break(entries: Iterable[Mapping[str, Any]], *, start: str | None = None
                ) -> Break | None:
    """The first entry whose link does not hold, in id order; None when the chain is whole.
    `start`: the hash the first entry must follow (None: whatever its prev_hash says, since
    retention removes the oldest entries)."""
    expected = start
    for entry in entries:
        if expected is not None and entry["prev_hash"] != expected:
            return Break(entry["id"], "does not follow the entry before it (one was removed "
                         "or inserted)")
        if digest(entry["prev_hash"], entry) != entry["hash"]:
            return Break(entry["id"], "its content does not match its hash (it was altered)")
        expected = entry["hash"]
    return None
