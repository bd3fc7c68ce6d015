"""Heartbeats (passive checks): cron jobs and workers ping; silence past the deadline alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, UTCDateTime
from tocsin.heartbeats.state import HeartbeatStatus as HeartbeatStatus  # a pure rule's vocabulary
from tocsin.heartbeats.state import PingKind as PingKind


class Heartbeat(Base):
    __tablename__ = "heartbeats"
    __table_args__ = (Index("ix_heartbeats_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(36), unique=True)  # the UUID in the ping URL
    name: Mapped[str] = mapped_column(String(200), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    period_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    cron: Mapped[str | None] = mapped_column(String(100), default=None)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    grace_seconds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=HeartbeatStatus.NEW.value)
    # When silence turns into "late" (expected ping + grace, or start + grace).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_ping_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HeartbeatPing(Base):
    __tablename__ = "heartbeat_pings"
    __table_args__ = (Index("ix_heartbeat_pings_hb_at", "heartbeat_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    heartbeat_id: Mapped[int] = mapped_column(ForeignKey("heartbeats.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(8))
    exit_code: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    body: Mapped[str] = mapped_column(Text, default="")
    source_ip: Mapped[str | None] = mapped_column(String(64), default=None)
