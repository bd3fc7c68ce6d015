"""Active checks, where they run, what they saw, and the probes that run them elsewhere."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.checks.confirm import CheckStatus as CheckStatus  # a pure rule's vocabulary
from tocsin.db.base import Base, JSONType, UTCDateTime

# The location name of the server's own runner; probes use any other name.
SERVER_LOCATION = "server"


class CheckKind(enum.StrEnum):
    HTTP = "http"
    TCP = "tcp"
    TLS = "tls"
    DNS = "dns"
    POSTGRES = "postgres"
    MYSQL = "mysql"


class ProbeStatus(enum.StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class Check(Base):
    __tablename__ = "checks"
    __table_args__ = (
        # The server runner's hot query: its enabled checks by due time.
        Index("ix_checks_runner_due", "on_server", "enabled", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    timeout_seconds: Mapped[float]
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    locations: Mapped[list[str]] = mapped_column(JSONType, default=list)
    confirm_failures: Mapped[int] = mapped_column(SmallInteger, default=1)
    # K of the live locations; None means a majority (2 of 3, 2 of 2, 1 of 1, 3 of 5).
    confirm_locations: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Derived from `locations` on save so the runner's query needs no JSON operators.
    on_server: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default=CheckStatus.UNKNOWN.value)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CheckLocationState(Base):
    """Per check and location: the run of consecutive results confirmation counts on."""

    __tablename__ = "check_location_states"

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"),
                                          primary_key=True)
    location: Mapped[str] = mapped_column(String(100), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    consecutive: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)


class CheckResult(Base):
    """One raw result, kept `check_result_retention_days`; compact on purpose."""

    __tablename__ = "check_results"
    __table_args__ = (Index("ix_check_results_check_at", "check_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"))
    location: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    # Only failures carry a reason; successes stay a few bytes.
    reason: Mapped[str | None] = mapped_column(String(500), default=None)


class CheckRollup(Base):
    """Counts per check per hour (`period='hour'`) or UTC day (`period='day'`)."""

    __tablename__ = "check_rollups"

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"),
                                          primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    ok_count: Mapped[int] = mapped_column(Integer)
    latency_sum_ms: Mapped[int] = mapped_column(Integer)
    latency_max_ms: Mapped[int] = mapped_column(Integer)


class Probe(Base):
    """A remote location: a `tocsin probe` agent authenticating with its own token."""

    __tablename__ = "probes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ProbeStatus.ONLINE.value)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
