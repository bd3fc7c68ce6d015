"""Request and response shapes of respond: checklists, tasks, roles, handoffs, the bridge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tocsin.incidents.lifecycle import CategorySystem, Severity
from tocsin.limits import Id

ROLE_NAME = r"^[a-z][a-z0-9_]{0,39}$"


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    severity: Severity | None = Field(None, description="at or above this severity; null: any")
    service_id: Id | None = Field(None, description="incidents of this service; null: any")
    category_system: CategorySystem | None = None
    items: list[str] = Field(min_length=1, max_length=100)


class TemplateOut(BaseModel):
    id: int
    name: str
    severity: Severity | None
    service_id: Id | None
    category_system: CategorySystem | None
    items: list[str]


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=500)
    assignee_id: Id | None = None


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done: bool | None = None
    assignee_id: Id | None = None
    title: str | None = Field(None, min_length=1, max_length=500)


class TaskOut(BaseModel):
    id: int
    incident_id: int
    title: str
    status: str
    template_id: Id | None
    assignee_id: Id | None
    done_by_id: Id | None
    done_at: datetime | None
    created_at: datetime


class TaskList(BaseModel):
    items: list[TaskOut]
    open: int


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=ROLE_NAME, description="lower case, e.g. scribe")
    description: str = Field("", max_length=5000)


class RoleOut(BaseModel):
    id: int | None = Field(description="null for the three built-in roles")
    name: str
    description: str
    built_in: bool


class RoleTake(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(min_length=1, max_length=40)
    user_id: Id | None = Field(description="null removes the holder")


class Handoff(BaseModel):
    """The holder of `role` hands it to `to_user_id`, with a note for them."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(min_length=1, max_length=40)
    to_user_id: Id
    note: str = Field(min_length=1, max_length=10_000)


class HolderOut(BaseModel):
    role: str
    description: str
    user_id: Id | None
    built_in: bool


class BridgeSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, max_length=2000,
                            description="http(s) link; null: made from bridge_url_template")


class BridgeOut(BaseModel):
    incident_id: int
    url: str | None
