"""The hash chain (pure): any change to any field of any entry, or a removed entry in the
middle, is found, at the first entry it touches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tocsin.audit import chain


def _entries(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    prev = chain.GENESIS
    start = datetime(2026, 12, 6, tzinfo=UTC)
    for i in range(1, n + 1):
        entry = {"id": i, "at": start + timedelta(seconds=i), "actor_id": i % 3 or None,
                 "actor": f"user{i}@example.com", "source": "127.0.0.1", "action": "updated",
                 "target": "teams", "target_id": str(i), "before": {"name": f"a{i}"},
                 "after": {"name": f"b{i}"}, "detail": "", "prev_hash": prev}
        entry["hash"] = prev = chain.digest(prev, entry)
        out.append(entry)
    return out


def test_an_untouched_chain_holds() -> None:
    assert chain.first_break(_entries(20), start=chain.GENESIS) is None


@given(st.integers(0, 9), st.sampled_from(chain.FIELDS[1:]), st.text(min_size=1, max_size=5))
def test_any_altered_field_is_found(index: int, field: str, junk: str) -> None:
    entries = _entries(10)
    entries[index][field] = {"tampered": junk} if field in ("before", "after") else junk
    broken = chain.first_break(entries)
    assert broken is not None and broken.entry_id == index + 1
    assert "altered" in broken.reason


@given(st.integers(1, 8))
def test_a_removed_entry_is_found(index: int) -> None:
    entries = _entries(10)
    removed = entries.pop(index)
    broken = chain.first_break(entries)
    assert broken is not None and broken.entry_id == removed["id"] + 1
    assert "removed" in broken.reason


def test_aware_and_naive_times_hash_alike() -> None:
    entry = _entries(1)[0]
    naive = {**entry, "at": entry["at"].replace(tzinfo=None)}
    assert chain.digest(chain.GENESIS, naive) == entry["hash"]
