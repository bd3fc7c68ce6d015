"""Shapes of notification clocks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ClockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    incident_id: int
    name: str
    hours: int
    started_at: datetime
    due_at: datetime
    notified_at: datetime | None
    notified_by_id: int | None
    note: str


class NotifiedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000, description="Whom, how, reference number.")
