"""Request and response shapes of runbooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RunbookFile(BaseModel):
    """One runbook file: its path (the slug is its name without `.md`) and its text."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=1000, pattern=r"^[^\x00]*\.md$")
    text: str = Field(max_length=500_000)


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    files: list[RunbookFile] = Field(min_length=1, max_length=1000)


class SyncOut(BaseModel):
    created: list[str]
    updated: list[str]


class RunbookOut(BaseModel):
    id: int
    slug: str
    title: str
    body: str
    body_html: str
    owner_id: int | None
    review_at: datetime
    stale: bool
    services: list[int]
    matchers: list[dict[str, Any]]
    source_path: str | None
    updated_at: datetime
