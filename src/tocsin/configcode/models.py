"""Which objects came from a configuration file ("managed by code")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, UTCDateTime


class ManagedObject(Base):
    """The Tocsin row `local_id` of `kind` was last written by `tocsin config apply`; the
    web app says so and warns before a hand edit (the next apply would undo it)."""

    __tablename__ = "config_managed"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    local_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
