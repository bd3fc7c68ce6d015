"""Stakeholder updates: editable templates, distribution lists, the updates sent, and each
incident's promised next update."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class StakeholderTemplate(Base):
    __tablename__ = "stakeholder_templates"

    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DistributionList(Base):
    """Who hears about incidents of some severities (empty: all) on some services (empty:
    all). An executive list gets the short summary for SEV1."""

    __tablename__ = "distribution_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    severities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    service_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    executive: Mapped[bool] = mapped_column(Boolean, default=False)
    # Each {"kind": email | webhook | an Apprise kind such as slack, "address": ...}
    targets: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StakeholderUpdate(Base):
    __tablename__ = "stakeholder_updates"
    __table_args__ = (Index("ix_stakeholder_updates_incident", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # None: draft
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StakeholderCadence(Base):
    """The incident's promised next update and how many promises were missed."""

    __tablename__ = "stakeholder_cadences"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    next_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    missed: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
