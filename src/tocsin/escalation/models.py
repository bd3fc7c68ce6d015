"""Escalation policies, which policy a service uses per severity, and running escalations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class EscalationStatus(enum.StrEnum):
    ACTIVE = "active"          # steps pending
    ACKNOWLEDGED = "acknowledged"  # someone is on it: no more steps or repeats
    CANCELLED = "cancelled"    # resolved/closed, or replaced by a stricter policy
    EXHAUSTED = "exhausted"    # every level and repeat ran and nobody acknowledged


class EscalationPolicy(Base):
    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    # How many times the whole list of levels runs again after the last level.
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    # Validated by schemas.LevelIn; stored whole because a policy is edited as a whole and
    # snapshotted as a whole.
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # The owning team: its managers (and admins) change the policy; none: admins only.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"),
                                                default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServicePolicy(Base):
    """The policy a service's incidents of one severity escalate with."""

    __tablename__ = "service_policies"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    severity: Mapped[str] = mapped_column(String(4), primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="CASCADE"), index=True)


class Escalation(Base):
    """The one escalation of an incident, with the policy snapshotted when it started."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL"), default=None)
    severity: Mapped[str] = mapped_column(String(4))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer, default=0)
    loop: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every restart/stop; a step timer carrying an older value does nothing.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoundRobinTurn(Base):
    """How many times a round-robin team target of one policy level has been paged, so the
    next page goes to the next member in turn (not a guess from the incident's id).
    `policy_id` 0 stands for an escalation whose snapshot names no stored policy."""

    __tablename__ = "round_robin_turns"

    policy_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)
