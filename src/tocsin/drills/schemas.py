"""Request and response shapes of game-day scenarios and drills."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tocsin.incidents.lifecycle import Severity
from tocsin.limits import Id


class ScenarioIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    alert_title: str = Field(min_length=1, max_length=280)
    alert_text: str = Field("", max_length=20_000)
    service_id: Id | None = None
    severity: Severity = Severity.SEV2


class ScenarioOut(BaseModel):
    id: int
    name: str
    alert_title: str
    alert_text: str
    service_id: int | None
    severity: str


class DrillStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario_id: Id
    participant_ids: list[Id] = Field(min_length=1, max_length=100)


class ReportLine(BaseModel):
    measure: str
    took_seconds: float | None
    target_seconds: float | None
    met: bool | None


class DrillOut(BaseModel):
    id: int
    scenario_id: int | None
    incident_id: int
    status: str
    participant_ids: list[int]
    started_at: datetime
    finished_at: datetime | None
    report: list[ReportLine]
