"""Integrations, alerts and their event log, triage configuration and suppression records."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.alerts.grouping import GroupingMode as GroupingMode  # a pure rule's vocabulary
from tocsin.db.base import Base, JSONType, UTCDateTime


class IntegrationKind(enum.StrEnum):
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"
    GENERIC = "generic"


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Integration(Base):
    """One sender pointed at Tocsin, with its own secret key (the PagerDuty routing key,
    the Opsgenie GenieKey, or the token in a webhook URL)."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # Generic webhooks: JSON paths for title, dedup_key, severity, status, service.
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """One alert: every event with the same (scope, dedup key) is an occurrence of it.

    `scope` is `i:<integration id>` for integrations and `s:<service id>` for detection
    sources that have no integration, so keys never collide across senders.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("scope", "dedup_key", name="uq_alerts_scope_dedup_key"),
        Index("ix_alerts_status_id", "status", "id"),
        Index("ix_alerts_incident_id", "incident_id"),
        # The noise report (stats.py) reads the period's alerts from this index alone.
        Index("ix_alerts_noise", "last_seen_at", "integration_id", "routing_rule_id",
              "incident_id", "acknowledged", "resolve_3_at"),
        # ... and its figures per integration from this one, in integration order: one range
        # of the period per integration, no sort to group them.
        Index("ix_alerts_noise_by_integration", "integration_id", "last_seen_at",
              "incident_id", "acknowledged", "resolve_3_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    dedup_key: Mapped[str] = mapped_column(String(255))
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), default=None, index=True)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), default=None, index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), default=None)
    routing_rule_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(255))
    source_severity: Mapped[str | None] = mapped_column(String(32), default=None)
    severity: Mapped[str] = mapped_column(String(4))
    labels: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Why no incident was paged for the current firing (silence, maintenance, rule,
    # dependency); null when it paged normally.
    suppressed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    resolve_count: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The times of its last three resolutions (`resolve` entries that resolved it), latest
    # first: the noise report's "flapping" (3 or more in the period) is resolve_3_at >= its
    # start, read from the alert alone (stats.py).
    resolve_1_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolve_2_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolve_3_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AlertEvent(Base):
    """Append-only log of what each sender event did to an alert, with its raw payload."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_alert_id_id", "alert_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(20))
    incident_id: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(String(500), default="")
    # Size-capped raw request body (or the batch item) for inspection.
    raw: Mapped[str | None] = mapped_column(Text, default=None)


class IncidentAlert(Base):
    """Which alerts an incident gathered (kept after an alert moves on to a new incident)."""

    __tablename__ = "incident_alerts"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, index=True)
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(40))


class AlertGroup(Base):
    """An open group: alerts with this key on this service join `incident_id` while
    `last_alert_at` is inside the service's grouping window."""

    __tablename__ = "alert_groups"
    __table_args__ = (Index("ix_alert_groups_service_key", "service_id", "group_key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    group_key: Mapped[str] = mapped_column(String(500))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_alert_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TriageSettings(Base):
    """Per-service grouping and auto-resolve. A service without a row uses the defaults."""

    __tablename__ = "triage_settings"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    grouping: Mapped[str] = mapped_column(String(16), default=GroupingMode.PER_ALERT.value)
    group_labels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    window_minutes: Mapped[int] = mapped_column(Integer, default=30)
    auto_resolve: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingRule(Base):
    """Evaluated in `position` order; the first whose conditions all match decides."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    actions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ClassificationRuleSet(Base):
    """Severity rules as data. `scope` is `global`, `team:<id>` or `service:<id>`; the most
    specific set wins. No row for `global` means the built-in DOMAIN §3 defaults."""

    __tablename__ = "classification_rule_sets"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MaintenanceWindow(Base):
    """One-off (`starts_at`..`ends_at`) or weekly recurring (`weekdays`, local `start_time`,
    `duration_minutes` in `time_zone`). `service_id` null covers every service."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), default=None, index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    weekdays: Mapped[list[int]] = mapped_column(JSONType, default=list)
    start_time: Mapped[str | None] = mapped_column(String(5), default=None)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Silence(Base):
    """Label matchers that keep matching alerts visible but page no one until `ends_at`."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    comment: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeEvent(Base):
    """A deploy or config change reported by a sender; incidents show recent ones."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_service_at", "service_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), default=None)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
