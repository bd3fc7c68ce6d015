"""Request and response shapes of the alerts, integrations and triage-configuration API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tocsin.alerts.models import GroupingMode, IntegrationKind
from tocsin.limits import Count, Id, Int32, StorableDatetime, Weekday


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_id: Id
    kind: IntegrationKind
    name: str = Field(min_length=1, max_length=200)
    mapping: dict[str, str] = Field(
        default_factory=dict,
        description="Generic webhooks: JSON paths for title, dedup_key, severity, status, "
        "service, source (e.g. `$.alert.name` or `alert.name`).")


class IntegrationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    enabled: bool | None = None
    mapping: dict[str, str] | None = None
    rotate_key: bool = False


class IntegrationOut(BaseModel):
    id: int
    service_id: Id
    kind: IntegrationKind
    name: str
    key: str
    enabled: bool
    mapping: dict[str, Any]
    url: str
    examples: dict[str, str]
    created_at: datetime


class SampleOut(BaseModel):
    """POST `body` as JSON to `url` with `headers`, as the integration's sender would.
    `path` is `url` without the server's public URL (for a client that reaches the server
    at another address)."""

    url: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class AlertOut(BaseModel):
    id: int
    dedup_key: str
    integration_id: Id | None
    service_id: Id | None
    team_id: Id | None
    incident_id: Id | None
    routing_rule_id: Id | None
    status: str
    summary: str
    source: str
    source_severity: str | None
    severity: str
    labels: dict[str, str]
    details: dict[str, Any]
    links: list[dict[str, str]]
    tags: list[str]
    suppressed_by: str | None
    occurrences: int
    resolve_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


class AlertEventOut(BaseModel):
    id: int
    at: datetime
    action: str
    outcome: str
    incident_id: Id | None
    note: str
    raw: str | None


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(min_length=1, max_length=300)
    op: Literal["equals", "not_equals", "regex", "exists", "not_exists", "gt", "gte", "lt",
                "lte", "in"] = "equals"
    value: Any = None


class RuleActions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service_id: Id | None = None
    severity: Literal["SEV1", "SEV2", "SEV3", "SEV4"] | None = None
    team_id: Id | None = None
    tags: list[str] | None = None
    suppress: bool | None = None


class RoutingRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    position: Int32 | None = Field(None, description="Evaluation order; default: last.")
    enabled: bool = True
    conditions: list[Condition] = Field(default_factory=list, max_length=50)
    actions: RuleActions


class RoutingRuleOut(BaseModel):
    id: int
    position: int
    name: str
    enabled: bool
    conditions: list[dict[str, Any]]
    actions: dict[str, Any]


class DryRunIn(BaseModel):
    """An alert as routing sees it: either a normalized-looking event, or a raw sender
    payload with `format` (pagerduty, opsgenie, alertmanager, grafana)."""

    model_config = ConfigDict(extra="forbid")
    integration_id: Id | None = None
    service_id: Id | None = None
    summary: str = ""
    source: str = ""
    severity: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    signals: dict[str, float | bool] = Field(default_factory=dict)


class DryRunOut(BaseModel):
    matched_rule_id: Id | None
    matched_rule_name: str | None
    service_id: Id | None
    team_id: Id | None
    tags: list[str]
    suppressed: bool
    suppressed_by: str | None
    severity: str
    severity_reason: str
    impact: str
    urgency: str


class TriageSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grouping: GroupingMode = GroupingMode.PER_ALERT
    group_labels: list[str] = Field(default_factory=list, max_length=20)
    window_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    auto_resolve: bool = True


class TriageSettingsOut(TriageSettingsIn):
    service_id: Id


class RuleSetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[dict[str, Any]] = Field(max_length=200)


class RuleSetOut(BaseModel):
    scope: str
    rules: list[dict[str, Any]]
    built_in: bool


class WindowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    service_id: Id | None = None
    starts_at: StorableDatetime | None = None
    ends_at: StorableDatetime | None = None
    weekdays: list[Weekday] = Field(default_factory=list, max_length=7)
    start_time: str | None = None
    duration_minutes: Count | None = None
    time_zone: str = "UTC"


class WindowOut(WindowIn):
    id: int
    active_now: bool


class Matcher(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    value: str = Field(max_length=1000)
    is_regex: bool = False
    is_equal: bool = True


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: list[Matcher] = Field(min_length=1, max_length=50)
    starts_at: StorableDatetime | None = None
    ends_at: StorableDatetime
    comment: str = Field(min_length=1, max_length=2000)


class SilenceOut(BaseModel):
    id: int
    matchers: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime
    author_id: Id | None
    comment: str
    active: bool


class ChangeOut(BaseModel):
    id: int
    service_id: Id
    at: datetime
    summary: str
    source: str
    details: dict[str, Any]
    links: list[dict[str, str]]


class NoiseRow(BaseModel):
    id: int | None
    name: str
    alerts: int
    incidents: int
    acknowledged_share: float
    flapping_alerts: int
    no_action_30d: int
    # Alerts in the period and not one acknowledged: a candidate to silence or retire.
    no_action: bool = False
    # The integration or rule is still on (False: disabled or retired).
    enabled: bool = True


class NoiseReport(BaseModel):
    since: datetime
    integrations: list[NoiseRow]
    rules: list[NoiseRow]
