"""Who put the first-hour checklist away (per user: each person has their own first hour)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, UTCDateTime


class SetupDismissal(Base):
    __tablename__ = "setup_dismissals"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime)
