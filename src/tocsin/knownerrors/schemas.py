"""Request and response shapes of known errors and suggestions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tocsin.knownerrors.models import FixStatus

Labels = dict[str, str]


class ProblemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    symptoms: str = Field("", max_length=50_000)
    workaround: str = Field("", max_length=50_000)
    fix_status: FixStatus = FixStatus.NONE
    service_id: int | None = None
    labels: Labels = Field(default_factory=dict, max_length=20)


class ProblemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=300)
    symptoms: str | None = Field(None, max_length=50_000)
    workaround: str | None = Field(None, max_length=50_000)
    fix_status: FixStatus | None = None
    labels: Labels | None = Field(None, max_length=20)


class ProblemOut(BaseModel):
    id: int
    title: str
    symptoms: str
    workaround: str
    fix_status: str
    service_id: int | None
    labels: Labels
    incident_ids: list[int]
    created_at: datetime
    updated_at: datetime


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident_id: int = Field(ge=1, le=2**62)


class SuggestionOut(BaseModel):
    id: int
    incident_id: int
    kind: str
    target_id: int
    title: str
    rank: int
    score: float
    reasons: list[str]
    workaround: str | None
    used: bool
    used_at: datetime | None
