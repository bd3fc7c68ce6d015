"""Shapes of audit entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    source: str
    action: str
    target: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    checked: int
    ok: bool
    broken_entry_id: int | None = None
    reason: str = ""
