"""The intake inbox: accepted events, durable before the sender's 2xx, awaiting triage."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class InboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class InboxRow(Base):
    """One accepted request (one body; a webhook batch is one row).

    The accept path stores what it validated — the body, the integration it resolved and
    any value it generated (a PagerDuty dedup key) — and the processor rebuilds the events
    from it with the same pure parsers, so a row is all that must survive a crash. Processed
    rows keep their outcome (body cleared) for the retention period: Opsgenie senders ask
    for it by request id.
    """

    __tablename__ = "intake_inbox"
    __table_args__ = (
        Index("ix_intake_inbox_status_id", "status", "id"),
        Index("ix_intake_inbox_request_id", "request_id"),
    )

    # BIGINT on PostgreSQL (a busy inbox turns over ids fast); SQLite needs INTEGER for
    # its rowid alias.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    integration_id: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType)
    request_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
