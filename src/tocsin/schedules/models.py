"""On-call schedules: a time zone, ordered layers (stored as validated JSON), overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class Schedule(Base):
    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    # Layers are edited as a whole (a rotation is meaningless piecemeal), validated by
    # schemas.LayerIn and read back into oncall.Layer; lowest priority first.
    layers: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScheduleOverride(Base):
    """`user_id` is on call for the whole schedule over [start_at, end_at)."""

    __tablename__ = "schedule_overrides"
    __table_args__ = (Index("ix_schedule_overrides_schedule_end", "schedule_id", "end_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandoffNote(Base):
    """What the outgoing on-call leaves for the incoming one; delivered with the automatic
    briefing at the next handoff (handoff.py), and kept on the schedule."""

    __tablename__ = "handoff_notes"
    __table_args__ = (Index("ix_handoff_notes_schedule_id", "schedule_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    text: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    delivered_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
