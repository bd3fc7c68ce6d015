"""Checklist templates, incident tasks, roles beyond the three, their holders, and used
acknowledge links (single use)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class ChecklistTemplate(Base):
    """Tasks added to an incident when it is declared, or its severity rises, at or above
    `severity`, for `service_id` and/or `category_system` when set (None: any)."""

    __tablename__ = "checklist_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    severity: Mapped[str | None] = mapped_column(String(4), default=None)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), default=None, index=True)
    category_system: Mapped[str | None] = mapped_column(String(20), default=None)
    items: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskStatus:
    OPEN = "open"
    DONE = "done"


class IncidentTask(Base):
    __tablename__ = "incident_tasks"
    __table_args__ = (Index("ix_incident_tasks_incident_status", "incident_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(8))
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("checklist_templates.id", ondelete="SET NULL"), default=None)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    done_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResponseRole(Base):
    """A role an admin defines (scribe, customer liaison, database SME…); its description
    is shown to whoever takes it."""

    __tablename__ = "response_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentRoleHolder(Base):
    __tablename__ = "incident_role_holders"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(
        ForeignKey("response_roles.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
