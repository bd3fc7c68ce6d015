"""Request and response shapes of the incidents API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tocsin.incidents.lifecycle import (
    CategorySystem,
    CategoryType,
    DetectionSource,
    Impact,
    Severity,
    Status,
    Urgency,
)
from tocsin.limits import Count, Id, StorableDatetime, not_null


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("timestamps must carry a time zone, e.g. 2026-01-05T12:00:00Z")
    return value


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=50_000)
    severity: Severity = Severity.SEV3
    impact: Impact = Impact.MEDIUM
    urgency: Urgency = Urgency.MEDIUM
    category_system: CategorySystem | None = None
    category_type: CategoryType | None = None
    detection_source: DetectionSource = DetectionSource.INTERNAL
    service_ids: list[Id] = Field(default_factory=list, max_length=100)
    restricted: bool = False
    impact_started_at: StorableDatetime | None = None
    commander_id: Id | None = None
    member_ids: list[Id] = Field(default_factory=list, max_length=500)

    _tz = field_validator("impact_started_at")(_aware)


class IncidentUpdate(BaseModel):
    """Fields that describe the record; status, severity and roles have their own actions."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=50_000)
    impact: Impact | None = None
    urgency: Urgency | None = None
    category_system: CategorySystem | None = None
    category_type: CategoryType | None = None
    service_ids: list[Id] | None = Field(None, max_length=100)
    restricted: bool | None = None
    impact_started_at: StorableDatetime | None = None
    impact_ended_at: StorableDatetime | None = None
    users_affected: Count | None = None
    resolution_summary: str | None = Field(None, max_length=50_000)

    _tz = field_validator("impact_started_at", "impact_ended_at")(_aware)
    _set = not_null("title", "description", "impact", "urgency", "restricted")


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status
    note: str = Field("", max_length=10_000)


class SeverityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    severity: Severity
    reason: str = Field(min_length=1, max_length=10_000)


RoleName = Literal["commander", "tech_lead", "comms_lead"]


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleName
    user_id: Id | None = Field(description="null removes the role holder")


EntryKind = Literal["note", "hypothesis", "action", "decision"]


class EntryCreate(BaseModel):
    """A timeline entry. Actions may carry a result; decisions must carry a reason."""

    model_config = ConfigDict(extra="forbid")
    kind: EntryKind = "note"
    body: str = Field(min_length=1, max_length=50_000)
    result: str | None = Field(None, max_length=10_000)
    reason: str | None = Field(None, max_length=10_000)


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution_summary: str | None = Field(None, max_length=50_000)
    impact_ended_at: StorableDatetime | None = None
    users_affected: Count | None = None

    _tz = field_validator("impact_ended_at")(_aware)


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution_summary: str | None = Field(None, max_length=50_000)
    impact_started_at: StorableDatetime | None = None
    impact_ended_at: StorableDatetime | None = None
    users_affected: Count | None = None
    skip_recovery_watch: bool = False
    reason: str | None = Field(None, max_length=10_000)

    _tz = field_validator("impact_started_at", "impact_ended_at")(_aware)


class ReopenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=10_000)


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: Id


class IncidentOut(BaseModel):
    id: int
    number: str
    title: str
    description: str
    status: Status
    severity: Severity
    impact: Impact
    urgency: Urgency
    category_system: CategorySystem | None
    category_type: CategoryType | None
    detection_source: DetectionSource
    service_ids: list[Id]
    reporter_id: Id | None
    commander_id: Id | None
    tech_lead_id: Id | None
    comms_lead_id: Id | None
    acknowledged_by_id: Id | None
    restricted: bool
    drill: bool = False
    impact_started_at: datetime | None
    impact_ended_at: datetime | None
    detected_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    recovery_until: datetime | None
    last_update_at: datetime
    resolution_summary: str | None
    users_affected: int | None
    reopen_count: int
    bridge_url: str | None = None
    created_at: datetime
    updated_at: datetime
    legal_next_statuses: list[Status]
    close_missing: list[str]


class EventOut(BaseModel):
    id: int
    at: datetime
    kind: str
    actor_id: Id | None
    body: str
    data: dict[str, Any]


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None
