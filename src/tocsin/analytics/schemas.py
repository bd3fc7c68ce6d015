"""Shapes of the metrics API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Dimension = Literal["severity", "service", "team", "period", "all"]
Period = Literal["week", "month", "quarter"]
Measure = Literal["ack", "update", "resolve"]
VerdictName = Literal["met", "missed", "pending", "none"]


class SpreadOut(BaseModel):
    n: int = Field(description="how many incidents have this measure")
    mean: float | None = Field(description="seconds")
    median: float | None = Field(description="seconds")
    p90: float | None = Field(description="seconds, nearest rank")


class SummaryOut(BaseModel):
    group: str
    incidents: int
    mttd: SpreadOut
    mtta: SpreadOut
    mttr: SpreadOut
    mtbf: SpreadOut
    unacknowledged: int
    unresolved: int
    escalation_rate: float | None
    recurrence_rate: float | None
    customer_share: float | None
    monitor_share: float | None


class IncidentMetricsOut(BaseModel):
    since: datetime
    until: datetime
    by: Dimension
    period: Period
    time_zone: str
    rows: list[SummaryOut]


class TargetIn(BaseModel):
    ack_minutes: int | None = Field(default=None, ge=1, le=525_600)
    update_minutes: int | None = Field(default=None, ge=1, le=525_600)
    resolve_minutes: int | None = Field(default=None, ge=1, le=525_600)


class TargetOut(TargetIn):
    severity: str
    default: bool = Field(description="true while the DOMAIN §3 default is in force")


class TargetsOut(BaseModel):
    """One entry per severity (four: a fixed set, not a growing list)."""

    targets: list[TargetOut]


class ComplianceOut(BaseModel):
    group: str
    measure: Measure
    met: int
    missed: int
    pending: int
    rate: float | None = Field(description="met / (met + missed)")


class MissOut(BaseModel):
    incident_id: int
    number: str
    severity: str
    created_at: datetime
    measures: list[Measure]


class ComplianceReport(BaseModel):
    since: datetime
    until: datetime
    period: Period
    rows: list[ComplianceOut]
    missed: list[MissOut] = Field(description="incidents you may see that missed a target, "
                                              "latest first")
    missed_count: int = Field(description="how many incidents you may see missed a target "
                                          "(all of them are in `missed` unless a page "
                                          "asked for the latest few)")
    missed_hidden: int = Field(description="restricted incidents, hidden from you, that "
                                           "missed a target (counted, not shown)")


class IncidentTargetsOut(BaseModel):
    incident_id: int
    severity: str
    ack: VerdictName
    update: VerdictName
    resolve: VerdictName
    ack_deadline: datetime | None
    update_deadline: datetime | None
    resolve_deadline: datetime | None


class HealthOut(BaseModel):
    user_id: int
    name: str
    time_zone: str
    pages: int
    off_hours: int
    sleep_hours: int
    interrupted_nights: int
    longest_interrupted_run: int
    shifts_paged: int
    busiest_shift: int
    shifts_over_limit: int
    share: float | None
    warning: bool


class OnCallOut(BaseModel):
    since: datetime
    until: datetime
    team_id: int | None
    per_shift_limit: int
    fairness: float | None = Field(description="Jain's index of pages per person, 1 = even")
    people: list[HealthOut]
    heat_map: list[list[int]] = Field(description="7 rows (Monday first) x 24 hours")
    heat_map_time_zone: str
    by_channel: dict[str, int]
