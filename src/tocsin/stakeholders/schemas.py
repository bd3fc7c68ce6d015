"""Request and response shapes of stakeholder updates."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tocsin.limits import Id

SEVERITY = r"^SEV[1-4]$"


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)


class TemplateOut(TemplateIn):
    kind: str
    default: bool


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern=r"^(email|webhook|slack|teams|sms|ntfy|pushover|telegram|discord|apprise)$")
    address: str = Field(min_length=3, max_length=2000)


class ListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    severities: list[str] = Field(default_factory=list, max_length=4)
    service_ids: list[Id] = Field(default_factory=list, max_length=200)
    executive: bool = False
    targets: list[Target] = Field(min_length=1, max_length=500)


class ListOut(ListIn):
    id: int


class UpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern=r"^(initial|progress|resolution)$")
    fields: dict[str, str] = Field(default_factory=dict, max_length=20,
                                   description="Values for the template's fields (cause, "
                                   "fix, hypothesis, …) the incident cannot supply.")
    subject: str | None = Field(None, max_length=300, description="Replaces the template's.")
    body: str | None = Field(None, max_length=20_000, description="Replaces the template's.")
    next_update_minutes: int | None = Field(
        None, ge=0, le=24 * 60, description="Promise the next update in N minutes (0: no "
        "promise); default: the severity's cadence.")
    draft: bool = False


class UpdateOut(BaseModel):
    id: int
    incident_id: int
    kind: str
    subject: str
    body: str
    next_update_at: datetime | None
    recipients: int
    sent_at: datetime | None
    created_at: datetime


class CadenceOut(BaseModel):
    incident_id: int
    next_update_at: datetime | None
    missed: int
    updates: list[UpdateOut]
