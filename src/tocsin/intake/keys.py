"""Integration keys remembered in memory, so accepting an event costs no database read.

A known key is trusted for `POSITIVE_SECONDS`, an unknown one refused for
`NEGATIVE_SECONDS` (a flood with a wrong key must not turn into a flood of queries). A
disabled or rotated key therefore keeps working for at most a few seconds; events accepted
in that time are still processed, as they would have been a moment earlier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import Integration
from tocsin.intake.errors import UnknownKey
from tocsin.runtime import Runtime

POSITIVE_SECONDS = 5.0
NEGATIVE_SECONDS = 1.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class IntegrationRef:
    id: int
    kind: str
    service_id: int
    mapping: dict[str, Any] = field(default_factory=dict)


class KeyCache:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._entries: dict[str, tuple[float, IntegrationRef | None]] = {}

    async def require(self, key: str, kinds: tuple[str, ...]) -> IntegrationRef:
        """The enabled integration with this key and one of `kinds`; raises UnknownKey."""
        if not key or len(key) > 64 or "\x00" in key:  # PostgreSQL cannot compare NUL
            raise UnknownKey
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            found = await run_in_threadpool(self._load, key)
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            ttl = POSITIVE_SECONDS if found is not None else NEGATIVE_SECONDS
            entry = (now + ttl, found)
            self._entries[key] = entry
        ref = entry[1]
        if ref is None or ref.kind not in kinds:
            raise UnknownKey
        return ref

    def _load(self, key: str) -> IntegrationRef | None:
        with self.runtime.read_sessions() as session:
            row = session.scalars(select(Integration).where(Integration.key == key)).first()
            if row is None or not row.enabled:
                return None
            return IntegrationRef(id=row.id, kind=row.kind, service_id=row.service_id,
                                  mapping=dict(row.mapping or {}))
