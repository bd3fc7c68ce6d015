"""Chat-ops request and response shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tocsin.chatops.models import Platform
from tocsin.limits import Id


class ChannelMapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform = Platform.SLACK
    channel_id: str = Field(min_length=1, max_length=2000,
                            description="Slack/Mattermost channel id; Teams: the Workflows "
                            "webhook URL")
    team_id: Id | None = None
    service_id: Id | None = None


class ChannelMapOut(BaseModel):
    id: int
    platform: Platform
    channel_id: str
    team_id: int | None
    service_id: int | None
    created_at: datetime


class UserLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform = Platform.SLACK
    external_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    user_id: Id


class UserLinkOut(BaseModel):
    id: int
    platform: Platform
    external_id: str
    user_id: int
    via: str
    created_at: datetime


class LinkRedeem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=300)


class LookupsQueued(BaseModel):
    queued: int


class IncidentChannelOut(BaseModel):
    incident_id: int
    platform: Platform
    name: str
    channel_id: str | None
    private: bool
    url: str | None


class CallOut(BaseModel):
    id: int
    platform: str
    method: str
    purpose: str
    incident_id: int | None
    status: str
    attempts: int
    due_at: datetime
    sent_at: datetime | None
    last_error: str


class ChatStatus(BaseModel):
    slack_configured: bool
    socket_mode: bool
    mattermost_configured: bool
    calls_pending: int
    calls_failed: int
    pending_by_method: dict[str, int] = Field(
        default_factory=dict, description="Calls waiting in the chat outbox, per method")
    oldest_pending_since: datetime | None = Field(
        None, description="When the longest-waiting call was queued")
    last_sent_at: datetime | None = Field(
        None, description="When a call last went through (the platform answered it)")
    last_failure: str | None = Field(
        None, description="The newest failed call: method, and what the platform said")


class CheckMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel_id: str = Field(pattern=r"^[CGD][A-Z0-9]{2,63}$",
                            description="A Slack channel id (the bot must be in it)")
    text: str = Field("Test message from Tocsin: chat-ops is connected.", min_length=1,
                      max_length=3000)


class CheckQueued(BaseModel):
    call_id: int
