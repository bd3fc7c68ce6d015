"""Request and response shapes for heartbeats and their pings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tocsin.heartbeats.models import HeartbeatStatus, PingKind
from tocsin.limits import Id


class HeartbeatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    service_id: Id
    period_seconds: int | None = Field(None, ge=1, le=366 * 86400)
    cron: str | None = Field(None, min_length=1, max_length=100)
    time_zone: str = Field("UTC", max_length=64)
    grace_seconds: int = Field(300, ge=0, le=31 * 86400)


class HeartbeatUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    service_id: Id | None = None
    period_seconds: int | None = Field(None, ge=1, le=366 * 86400)
    cron: str | None = Field(None, min_length=1, max_length=100)
    time_zone: str | None = Field(None, max_length=64)
    grace_seconds: int | None = Field(None, ge=0, le=31 * 86400)
    paused: bool | None = None


class HeartbeatOut(BaseModel):
    id: int
    name: str
    service_id: Id
    ping_url: str
    period_seconds: int | None
    cron: str | None
    time_zone: str
    grace_seconds: int
    status: HeartbeatStatus
    due_at: datetime | None
    last_ping_at: datetime | None
    last_start_at: datetime | None
    last_duration_ms: int | None
    created_at: datetime


class PingOut(BaseModel):
    id: int
    at: datetime
    kind: PingKind
    exit_code: int | None
    duration_ms: int | None
    body: str
    source_ip: str | None
