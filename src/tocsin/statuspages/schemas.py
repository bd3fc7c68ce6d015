"""Request and response shapes of status pages (the public JSON follows Statuspage's own
shapes and is built in render.py, not here)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tocsin.limits import Id, Timestamp
from tocsin.statuspages.components import ComponentStatus

SLUG = r"^[a-z0-9][a-z0-9-]{0,59}$"
COLOR = r"^#[0-9a-fA-F]{6}$"


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=100)
    url: str = Field(pattern=r"^https?://", max_length=2000)


class PageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    logo_url: str = Field("", pattern=r"^(https?://.*)?$", max_length=2000)
    brand_color: str = Field("#1f6feb", pattern=COLOR)
    links: list[Link] = Field(default_factory=list, max_length=20)
    time_zone: str = Field("UTC", max_length=64)


class PageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    logo_url: str | None = Field(None, pattern=r"^(https?://.*)?$", max_length=2000)
    brand_color: str | None = Field(None, pattern=COLOR)
    links: list[Link] | None = Field(None, max_length=20)
    time_zone: str | None = Field(None, max_length=64)


class PageOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    logo_url: str
    brand_color: str
    links: list[Link]
    time_zone: str
    url: str


class ComponentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    group_name: str = Field("", max_length=200)
    position: int = Field(0, ge=0, le=10_000)
    service_ids: list[Id] = Field(default_factory=list, max_length=100)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: ComponentStatus | None  # None: back to the derived status
    note: str = Field("", max_length=500)


class ComponentOut(BaseModel):
    id: int
    page_id: int
    name: str
    description: str
    group_name: str
    position: int
    service_ids: list[int]
    status: ComponentStatus
    overridden: bool
    override_note: str


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field("incident", pattern=r"^(incident|maintenance)$")
    title: str = Field(min_length=1, max_length=300)
    incident_id: Id | None = None
    maintenance_window_id: Id | None = None
    impact: str = Field("minor", pattern=r"^(none|minor|major|critical|maintenance)$")
    component_ids: list[Id] = Field(default_factory=list, max_length=200)
    stage: str
    body: str = Field(max_length=10_000)
    scheduled_for: Timestamp | None = None
    scheduled_until: Timestamp | None = None
    draft: bool = False


class MaintenanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window_id: Id
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(max_length=10_000)
    component_ids: list[Id] = Field(
        default_factory=list, max_length=200,
        description="Empty: the components mapped to the window's service.")
    horizon_days: int | None = Field(
        None, ge=1, le=90, description="A recurring window only: announce each occurrence "
        "this many days ahead (default TOCSIN_STATUSPAGE_MAINTENANCE_HORIZON_DAYS).")


class UpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: str
    body: str = Field(max_length=10_000)
    component_ids: list[Id] | None = Field(None, max_length=200)
    draft: bool = False


class UpdateOut(BaseModel):
    id: int
    stage: str
    body: str
    component_ids: list[int]
    published_at: datetime | None
    created_at: datetime


class PostOut(BaseModel):
    id: int
    page_id: int
    kind: str
    title: str
    incident_id: int | None
    stage: str
    impact: str
    component_ids: list[int]
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    published_at: datetime | None
    resolved_at: datetime | None
    updates: list[UpdateOut]
    url: str


class SeriesOut(BaseModel):
    """A recurring maintenance window announced on a page; each occurrence within the
    horizon is its own maintenance post (`upcoming`: those not yet completed)."""

    id: int
    kind: Literal["recurring"] = "recurring"
    page_id: int
    window_id: int
    title: str
    body: str
    component_ids: list[int]
    horizon_days: int
    announced_through: datetime
    created_at: datetime
    upcoming: list[PostOut]


class SubscribeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field("email", pattern=r"^(email|webhook)$")
    address: str = Field(min_length=3, max_length=320)
    component_ids: list[Id] = Field(default_factory=list, max_length=200)


class SubscriberOut(BaseModel):
    id: int
    kind: str
    address: str
    component_ids: list[int]
    confirmed: bool
    unsubscribed: bool
    created_at: datetime


class FileOut(BaseModel):
    name: str
    content_type: str
    etag: str
    rendered_at: datetime


class FilesOut(BaseModel):
    files: list[FileOut]
