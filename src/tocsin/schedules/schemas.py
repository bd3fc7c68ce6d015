"""Request and response bodies for schedules."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tocsin.limits import Id, Timestamp, Weekday
from tocsin.schedules.oncall import Unit


class WindowIn(BaseModel):
    days: list[Weekday] = Field(description="Weekdays, 0 = Monday … 6 = Sunday.", min_length=1)
    start: time = Field(description="Wall-clock start in the schedule's zone.")
    end: time = Field(description="Wall-clock end; at or before start means past midnight.")

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in value):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))


class LayerIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    participants: list[Id] = Field(min_length=1, description="User ids in rotation order.")
    unit: Unit = Unit.WEEKS
    length: int = Field(1, ge=1, le=10_000, description="Shift length in `unit`s.")
    start: datetime = Field(description="Wall-clock start without zone (the handoff time), "
                                        "e.g. 2026-01-05T09:00:00.")
    restrictions: list[WindowIn] = Field(default_factory=list)

    @field_validator("start")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("give the layer start as wall-clock time in the schedule's zone, "
                             "without an offset")
        return value


class ScheduleIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    time_zone: str = Field(description="IANA zone, e.g. Europe/Berlin.")
    team_id: Id | None = None
    layers: list[LayerIn] = Field(default_factory=list, description="Lowest priority first.")


class OverrideIn(BaseModel):
    user_id: Id
    start: Timestamp
    end: Timestamp
    reason: str = ""


class SwapIn(BaseModel):
    """Two people trade: each takes the other's span (two overrides)."""

    user_id: Id
    start: Timestamp
    end: Timestamp
    other_user_id: Id
    other_start: Timestamp
    other_end: Timestamp


class OverrideOut(BaseModel):
    id: int
    user_id: Id
    start: datetime
    end: datetime
    reason: str


class ScheduleOut(BaseModel):
    id: int
    name: str
    description: str
    time_zone: str
    team_id: Id | None
    layers: list[LayerIn]
    overrides: list[OverrideOut]
    warnings: list[str]
    paging_problems: list[str] = Field(
        default_factory=list, description="Nobody on call now, or people in the rotation "
        "who cannot be paged (no verified contact method, deactivated)")


class ShiftOut(BaseModel):
    user_id: Id
    start: datetime
    end: datetime
    source: str


class GapOut(BaseModel):
    start: datetime
    end: datetime


class ShiftsOut(BaseModel):
    schedule_id: Id
    start: datetime
    end: datetime
    final: list[ShiftOut]
    layers: dict[str, list[ShiftOut]]
    gaps: list[GapOut]
    warnings: list[str]


class OnCallOut(BaseModel):
    schedule_id: Id
    schedule_name: str
    at: datetime
    user_id: Id | None
    user_name: str | None
    until: datetime | None
    status: Literal["covered", "nobody"]


class FeedOut(BaseModel):
    url: str


class HandoffNoteIn(BaseModel):
    """The outgoing on-call's note for the incoming one, delivered with the briefing."""

    text: str = Field(min_length=1, max_length=10_000)


class HandoffNoteOut(BaseModel):
    id: int
    schedule_id: int
    author_id: int | None
    text: str
    created_at: datetime
    delivered_at: datetime | None
    delivered_to_id: int | None
