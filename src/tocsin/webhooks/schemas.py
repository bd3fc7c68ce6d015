"""Shapes of event webhook subscriptions and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tocsin.incidents.lifecycle import Severity
from tocsin.limits import Id

EventType = Literal[
    "incident.declared", "incident.acknowledged", "incident.status_changed",
    "incident.severity_changed", "incident.role_changed", "incident.note_added",
    "incident.resolved", "incident.closed", "incident.reopened",
    "alert.created", "alert.acknowledged", "alert.resolved"]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000, description="http(s) receiver")
    secret: str | None = Field(None, min_length=16, max_length=200,
                               description="HMAC key; none: one is made and shown once")
    event_types: list[EventType] = Field(default_factory=list, description="empty: all")
    service_ids: list[Id] = Field(default_factory=list, description="empty: any service")
    team_ids: list[Id] = Field(default_factory=list, description="empty: any team")
    severities: list[Severity] = Field(default_factory=list, description="empty: any")
    include_drills: bool = Field(False, description="also deliver drill (game-day) incidents")


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    url: str | None = Field(None, min_length=1, max_length=2000)
    active: bool | None = None
    event_types: list[EventType] | None = None
    service_ids: list[Id] | None = None
    team_ids: list[Id] | None = None
    severities: list[Severity] | None = None
    include_drills: bool | None = None


class SubscriptionOut(BaseModel):
    id: int
    name: str
    url: str
    active: bool
    event_types: list[str]
    service_ids: list[int]
    team_ids: list[int]
    severities: list[str]
    include_drills: bool
    created_at: datetime
    secret: str | None = Field(None, description="only in the answer that created it")


class AttemptOut(BaseModel):
    at: datetime
    response_status: int | None
    error: str | None
    outcome: str


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    due_at: datetime
    sent_at: datetime | None
    created_at: datetime
    log: list[AttemptOut]
