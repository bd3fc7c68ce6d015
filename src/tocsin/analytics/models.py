"""The response targets a team measures itself against, editable per severity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
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
