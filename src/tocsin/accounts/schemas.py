"""Request and response shapes for users, teams and API keys."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from tocsin.limits import Id, StorableDatetime
from tocsin.principal import Role, TeamRole


def _zone(value: str | None) -> str | None:
    if value is None:
        return value
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{value}' (use an IANA name like Europe/Paris)") from None
    return value


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    time_zone: str = "UTC"
    role: Role = Role.RESPONDER
    password: str | None = Field(None, min_length=10, max_length=200)
    invite: bool = Field(False, description="Email the new user a single-use sign-in link "
                         "to set their password and add a contact method.")

    _tz = field_validator("time_zone")(_zone)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    time_zone: str | None = None
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=200)

    _tz = field_validator("time_zone")(_zone)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    email: str
    time_zone: str
    role: Role
    active: bool
    created_at: datetime


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    member_ids: list[Id] = Field(default_factory=list, max_length=1000)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    member_ids: list[Id] | None = Field(None, max_length=1000)


class TeamOut(BaseModel):
    id: int
    name: str
    description: str
    member_ids: list[Id]
    manager_ids: list[Id] = Field(default_factory=list, description="Members with the "
                                  "team's manager role (they change its configuration).")
    created_at: datetime


class TeamRoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: TeamRole


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    scope: Role | None = Field(
        None, description="Most the key may do; defaults to the owner's role, never above it."
    )
    user_id: Id | None = Field(None, description="Owner; admins may create keys for others.")
    expires_at: StorableDatetime | None = None
    team_id: Id | None = Field(None, description="Limit the key to one team's configuration.")


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: Id
    name: str
    prefix: str
    scope: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None
    team_id: int | None = None


class ApiKeyCreated(ApiKeyOut):
    token: str = Field(description="The secret. Shown only in this answer; store it now.")
