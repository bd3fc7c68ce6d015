"""Request and response bodies for escalation policies and paging."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tocsin.escalation.policy import TargetKind, TeamMode
from tocsin.incidents.lifecycle import Severity
from tocsin.limits import INT32_MAX, Id


class TargetIn(BaseModel):
    kind: TargetKind
    id: Id
    mode: TeamMode = Field(TeamMode.ALL, description="Teams only: everyone, or one in turn.")


class LevelIn(BaseModel):
    delay_minutes: int = Field(ge=0, le=INT32_MAX, description="Minutes before the next level fires.")
    targets: list[TargetIn]


class PolicyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    repeat: int = Field(0, ge=0, le=20, description="Extra runs of the whole policy.")
    levels: list[LevelIn]
    team_id: Id | None = Field(None, description="Owning team: its managers (and admins) "
                               "change the policy; none: admins only.")


class PolicyOut(PolicyIn):
    id: int
    paging_problems: list[str] = Field(
        default_factory=list, description="Who this policy cannot page, level by level, "
        "in words")


class ServicePoliciesIn(BaseModel):
    """Policy id per severity, e.g. {"SEV1": 3, "SEV2": 3, "SEV3": 4}; missing: no paging."""

    policies: dict[Severity, Id]


class EscalationOut(BaseModel):
    incident_id: Id
    policy_id: Id | None
    policy_name: str
    severity: str
    status: str
    level: int
    loop: int
    generation: int
    next_step_at: datetime | None
    started_at: datetime


class PageIn(BaseModel):
    """Page people on demand (lateral escalation): a subject-matter expert or a team."""

    user_ids: list[Id] = Field(default_factory=list)
    team_id: Id | None = None
    schedule_id: Id | None = None
    note: str = ""
