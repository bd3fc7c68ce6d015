"""The one shape every alert source is turned into before triage.

Intake parsers (PagerDuty, Opsgenie, Alertmanager, Grafana, generic JSON) and detection
(uptime checks, heartbeats, probe-offline) all produce `NormalizedEvent`s and hand them to
`tocsin.alerts.service.ingest_event`, so routing, dedup, grouping, suppression and
classification are written once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EventAction(enum.StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class NormalizedEvent:
    """One alert event.

    `dedup_key` identifies the alert within its integration (or source): repeated triggers
    with the same key are occurrences of one alert. `severity` is the source's own word
    (PagerDuty `critical`, Opsgenie `P1`, a `severity` label…), mapped during
    classification; `None` lets the rules decide.
    """

    action: EventAction
    dedup_key: str
    summary: str
    source: str
    occurred_at: datetime
    integration_id: int | None = None
    service_id: int | None = None
    severity: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    # The sender's own tags (Opsgenie `tags`), kept on the alert with the routing rules'.
    tags: list[str] = field(default_factory=list)
    # Metrics for classification when the source knows them (DOMAIN §3): error_rate and
    # users_affected_pct as 0..100, p99_ms, dependent_services, data_loss, security.
    signals: dict[str, float | bool] = field(default_factory=dict)
