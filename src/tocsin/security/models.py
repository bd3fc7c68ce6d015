"""Notification clocks of security incidents (e.g. the GDPR's 72 hours)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, UTCDateTime


class SecurityClock(Base):
    """One legal or contractual deadline for telling someone about a security incident,
    started when the incident became a security incident; `notified_at` records when the
    notification was made (and the reminders stop)."""

    __tablename__ = "security_clocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(200))
    hours: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    notified_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    note: Mapped[str] = mapped_column(String(2000), default="")
