"""The configuration file: every object by name, references by name, no ids and no secrets.
`ConfigFile.model_json_schema()` is the published JSON Schema (docs/config.schema.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from tocsin.alerts.models import IntegrationKind
from tocsin.catalog.models import Tier
from tocsin.escalation.policy import TargetKind, TeamMode
from tocsin.incidents.lifecycle import Severity
from tocsin.principal import Role
from tocsin.schedules.oncall import Unit
from tocsin.schedules.schemas import WindowIn

NAME = Field(min_length=1, max_length=200)


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _sorted(value: list[str]) -> list[str]:
    return sorted(value)


class UserDoc(Doc):
    email: EmailStr
    name: str = NAME
    time_zone: str = "UTC"
    role: Role = Role.RESPONDER
    active: bool = True


class TeamDoc(Doc):
    name: str = NAME
    description: str = Field("", max_length=2000)
    members: list[str] = Field(default_factory=list, description="Users' emails.")

    _order = field_validator("members")(_sorted)


class LayerDoc(Doc):
    name: str = Field(min_length=1, max_length=100)
    participants: list[str] = Field(min_length=1,
                                    description="Users' emails, in rotation order.")
    unit: Unit = Unit.WEEKS
    length: int = Field(1, ge=1, le=10_000)
    start: datetime = Field(description="Wall-clock handoff time in the schedule's zone, "
                                        "without an offset, e.g. 2026-01-05T09:00:00.")
    restrictions: list[WindowIn] = Field(default_factory=list)


class ScheduleDoc(Doc):
    name: str = NAME
    description: str = ""
    time_zone: str
    team: str | None = Field(None, description="A team's name.")
    layers: list[LayerDoc] = Field(default_factory=list, description="Lowest priority first.")


class TargetDoc(Doc):
    kind: TargetKind
    name: str = Field(description="A user's email, or a schedule's or team's name.")
    mode: TeamMode = TeamMode.ALL


class LevelDoc(Doc):
    delay_minutes: int = Field(ge=0, le=100_000)
    targets: list[TargetDoc] = Field(min_length=1)


class PolicyDoc(Doc):
    name: str = NAME
    description: str = ""
    repeat: int = Field(0, ge=0, le=20)
    levels: list[LevelDoc] = Field(min_length=1)


class ServiceDoc(Doc):
    name: str = NAME
    description: str = Field("", max_length=2000)
    owner_team: str | None = Field(None, description="A team's name.")
    tier: Tier = Tier.MEDIUM
    revenue: bool = False
    depends_on: list[str] = Field(default_factory=list, description="Services' names.")
    policies: dict[Severity, str] = Field(default_factory=dict,
                                          description="Escalation policy name per severity.")

    _order = field_validator("depends_on")(_sorted)


class IntegrationDoc(Doc):
    """The key is not in the file: `apply` makes one; see it with `tocsin integration`."""

    name: str = NAME
    service: str = Field(description="A service's name; (service, name) is the identity.")
    kind: IntegrationKind
    enabled: bool = True
    mapping: dict[str, str] = Field(default_factory=dict)


class HeartbeatDoc(Doc):
    name: str = NAME
    service: str
    period_seconds: int | None = Field(None, ge=1, le=366 * 86400)
    cron: str | None = Field(None, min_length=1, max_length=100)
    time_zone: str = "UTC"
    grace_seconds: int = Field(300, ge=0, le=31 * 86400)


class RouteActionsDoc(Doc):
    service: str | None = Field(None, description="A service's name.")
    severity: Severity | None = None
    team: str | None = Field(None, description="A team's name.")
    tags: list[str] | None = None
    suppress: bool | None = None


class RouteDoc(Doc):
    """A routing rule; rules run in the file's order, the first match decides."""

    name: str = NAME
    enabled: bool = True
    conditions: list[dict[str, Any]] = Field(
        default_factory=list, description="Each {field, op, value}, as in the routing API.")
    actions: RouteActionsDoc


class ClassificationDoc(Doc):
    """Severity rules for one scope: `global`, `team:<name>` or `service:<name>`."""

    scope: str = Field(pattern=r"^(global|team:.+|service:.+)$")
    rules: list[dict[str, Any]] = Field(description="As in the classification API.")


class ConfigFile(Doc):
    """Tocsin configuration as code. Sections are applied in this order."""

    version: Literal[1] = 1
    users: list[UserDoc] = Field(default_factory=list)
    teams: list[TeamDoc] = Field(default_factory=list)
    schedules: list[ScheduleDoc] = Field(default_factory=list)
    policies: list[PolicyDoc] = Field(default_factory=list)
    services: list[ServiceDoc] = Field(default_factory=list)
    integrations: list[IntegrationDoc] = Field(default_factory=list)
    heartbeats: list[HeartbeatDoc] = Field(default_factory=list)
    routing_rules: list[RouteDoc] = Field(default_factory=list)
    classification: list[ClassificationDoc] = Field(default_factory=list)
