"""Request and response shapes of post-mortems and action items."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tocsin.postmortems.models import ActionStatus

SECTIONS = ("summary", "timeline", "impact", "root_cause", "contributing_factors",
            "went_well", "could_improve", "action_items")
TEXT_SECTIONS = ("summary", "impact_notes", "root_cause", "contributing_factors",
                 "went_well", "could_improve")


class Priority(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class PostmortemStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner_id: int | None = None


class PostmortemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=300)
    summary: str | None = Field(None, max_length=100_000)
    impact_notes: str | None = Field(None, max_length=100_000)
    root_cause: str | None = Field(None, max_length=100_000)
    contributing_factors: str | None = Field(None, max_length=100_000)
    went_well: str | None = Field(None, max_length=100_000)
    could_improve: str | None = Field(None, max_length=100_000)
    owner_id: int | None = None
    # Event ids of the timeline entries to show (the others stay one click away).
    included_event_ids: list[int] | None = Field(None, max_length=100_000)


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer_ids: list[int] = Field(min_length=1, max_length=50)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    section: str | None = Field(None, pattern="^(" + "|".join(SECTIONS) + ")$",
                                description="required unless replying (a reply takes its "
                                            "thread's section)")
    body: str = Field(min_length=1, max_length=20_000)
    parent_id: int | None = Field(None, description="the comment this one replies to")


class CommentOut(BaseModel):
    id: int
    section: str
    author_id: int | None
    author_name: str | None
    body: str
    at: datetime
    parent_id: int | None
    resolved_at: datetime | None
    resolved_by_id: int | None


class FindingOut(BaseModel):
    section: str
    sentence: str
    subject: str
    suggestion: str


class TimelineEntryOut(BaseModel):
    event_id: int
    at: datetime
    kind: str
    role: str
    text: str
    key: bool
    moment: str | None
    included: bool


class ReviewerOut(BaseModel):
    user_id: int
    approved_at: datetime | None


class ActionItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    owner_id: int
    due_at: datetime
    priority: Priority = Priority.MEDIUM
    sync_to: str | None = Field(None, pattern="^(github|jira)$")


class ActionItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=300)
    owner_id: int | None = None
    due_at: datetime | None = None
    priority: Priority | None = None
    status: ActionStatus | None = None


class ActionItemOut(BaseModel):
    id: int
    incident_id: int
    postmortem_id: int | None
    title: str
    owner_id: int
    due_at: datetime
    priority: str
    status: str
    overdue: bool
    reminders_sent: int
    external_kind: str | None
    external_ref: str | None
    external_status: str | None
    done_at: datetime | None


class PostmortemOut(BaseModel):
    id: int
    incident_id: int
    status: str
    owner_id: int | None
    due_at: datetime
    overdue: bool
    title: str
    summary: str
    timeline: list[TimelineEntryOut]
    impact: dict[str, Any]
    impact_notes: str
    root_cause: str
    contributing_factors: str
    went_well: str
    could_improve: str
    action_items: list[ActionItemOut]
    reviewers: list[ReviewerOut]
    comments: list[CommentOut]
    # Unresolved comment threads per section (sections with none are left out).
    open_comments: dict[str, int]
    blameless_findings: list[FindingOut]
    published_at: datetime | None


class PostmortemBrief(BaseModel):
    id: int
    incident_id: int
    status: str
    title: str
    due_at: datetime
    overdue: bool


class CompletionOut(BaseModel):
    group: str
    needed: int = Field(description="resolved incidents whose severity requires a post-mortem")
    published: int
    published_on_time: int = Field(description="published at or before the due date")
    overdue: int = Field(description="started, not published, past the due date")
    missing: int = Field(description="needed and never started")
    published_rate: float | None = Field(description="published / needed")
    on_time_rate: float | None = Field(description="published_on_time / needed")
    actions: int = Field(description="action items of these incidents, cancelled ones left out")
    actions_done: int
    actions_done_on_time: int
    actions_overdue: int = Field(description="not done, past their due date")
    actions_done_rate: float | None = Field(description="actions_done / actions")
    actions_on_time_rate: float | None = Field(description="actions_done_on_time / actions")


class CompletionReport(BaseModel):
    since: datetime
    until: datetime
    by: Literal["severity", "service", "team", "period", "all"]
    period: Literal["week", "month", "quarter"]
    time_zone: str
    required_severities: list[str]
    rows: list[CompletionOut]
