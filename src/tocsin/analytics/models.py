"""The response targets a team measures itself against, editable per severity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, UTCDateTime


class ResponseTarget(Base):
    """One severity's targets in minutes; a missing row means the DOMAIN §3 default
    (targets.DEFAULT_TARGETS), a NULL minute count means no target for that step."""

    __tablename__ = "response_targets"

    severity: Mapped[str] = mapped_column(String(4), primary_key=True)
    ack_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    update_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    resolve_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)


class IncidentFact(Base):
    """One incident reduced to what the metrics read (measures.Facts), kept current in the
    same transaction as each log entry (analytics.summary.on_incident_event) and rebuilt from
    the log by `tocsin report rebuild` (the same fold). The metrics read these rows, not the
    log.

    `counted` is false for incidents the metrics leave out (drills). `service_ids` are the
    incident's services as the log last set them, sorted, space-separated."""

    __tablename__ = "incident_facts"
    # (revision in the index: a window's versions are read from it alone, queries.py)
    __table_args__ = (Index("ix_incident_facts_counted_created", "counted", "created_at",
                            "revision"),)

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    counted: Mapped[bool] = mapped_column(Boolean)
    severity: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20))
    service_ids: Mapped[str] = mapped_column(String(2000), default="")
    impact_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    first_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    recurred: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Raised by one at each change the hook writes (readers keep facts by revision).
    revision: Mapped[int] = mapped_column(Integer, default=0)
