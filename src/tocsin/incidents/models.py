"""The incident record and its append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from tocsin.db.base import Base, JSONType, UTCDateTime

UNACKNOWLEDGED = "acknowledged_at IS NULL"  # ix_incidents_unacknowledged holds only these


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_id", "status", "id"),
        Index("ix_incidents_severity_id", "severity", "id"),
        Index("ix_incidents_created_at", "created_at"),
        # The incidents never acknowledged, for the alert-noise report (alerts/stats.py): an
        # alert's incident counts as acknowledged unless its id is in here, so the report
        # reads this small index once instead of looking up each alert's incident.
        Index("ix_incidents_unacknowledged", "id", sqlite_where=text(UNACKNOWLEDGED),
              postgresql_where=text(UNACKNOWLEDGED)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(4))
    impact: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str] = mapped_column(String(10))
    category_system: Mapped[str | None] = mapped_column(String(20), default=None)
    category_type: Mapped[str | None] = mapped_column(String(20), default=None)
    detection_source: Mapped[str] = mapped_column(String(20))
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    commander_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    tech_lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    comms_lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    # A game-day drill (drills/): pages go only to its members; metrics exclude it
    # (`not_drill()` below is the one predicate to filter with).
    drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    impact_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    recovery_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_update_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution_summary: Mapped[str | None] = mapped_column(Text, default=None)
    impact_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    users_affected: Mapped[int | None] = mapped_column(Integer, default=None)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # The conference link responders meet on (respond/): by hand or from a template.
    bridge_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def number(self) -> str:
        return f"INC-{self.id}"


def not_drill() -> ColumnElement[bool]:
    """The one filter that leaves drills out (metrics, reports, similar-incident search)."""
    return Incident.drill.is_(False)


class IncidentService(Base):
    __tablename__ = "incident_services"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IncidentMember(Base):
    """People who may see a restricted incident (besides admins and role holders)."""

    __tablename__ = "incident_members"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IncidentEvent(Base):
    """One entry of the append-only timeline. Rows are never updated or deleted."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_at", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
