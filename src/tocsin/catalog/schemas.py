"""Request and response shapes for services."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tocsin.catalog.models import Tier
from tocsin.limits import Id


class ServiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    owner_team_id: Id | None = None
    tier: Tier = Tier.MEDIUM
    revenue: bool = Field(False, description="Failures cost money directly (payments, checkout).")
    depends_on: list[Id] = Field(default_factory=list, max_length=200)


class ServiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    owner_team_id: Id | None = None
    tier: Tier | None = None
    revenue: bool | None = None
    depends_on: list[Id] | None = Field(None, max_length=200)


class ServiceOut(BaseModel):
    id: int
    name: str
    description: str
    owner_team_id: Id | None
    tier: Tier
    revenue: bool
    depends_on: list[Id]
    created_at: datetime
    paging_problems: list[str] = Field(
        default_factory=list, description="Why this service's incidents would page nobody, "
        "or not everyone, in words (no policy for SEV1/SEV2, people without a verified "
        "contact method, nobody on call)")
