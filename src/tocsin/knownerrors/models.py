"""Known errors (problems), the incidents linked to them, and the suggestions made when an
incident opened. The full-text index lives in `fts_*` tables that search.py owns."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class FixStatus(enum.StrEnum):
    NONE = "none"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    FIXED = "fixed"


class Problem(Base):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    symptoms: Mapped[str] = mapped_column(Text, default="")
    workaround: Mapped[str] = mapped_column(Text, default="")
    fix_status: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), default=None)
    # Alert labels an incident must carry (all of them) to match, e.g. {"alertname": "X"}.
    labels: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProblemIncident(Base):
    """An incident that is an occurrence of the problem (recurring incidents share one)."""

    __tablename__ = "problem_incidents"

    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suggestion(Base):
    """A known error or past incident suggested when an incident opened, and whether the
    responders used it."""

    __tablename__ = "incident_suggestions"
    __table_args__ = (Index("ix_incident_suggestions_incident", "incident_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # "problem" or "incident"
    target_id: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
