"""Chat-ops tables: channel and user mappings, incident channels, and the chat outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class Platform(enum.StrEnum):
    SLACK = "slack"
    MATTERMOST = "mattermost"
    TEAMS = "teams"


class CallStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for due_at
    SENDING = "sending"  # claimed until due_at (a lease); a lapsed lease is claimed again
    DONE = "done"
    FAILED = "failed"    # the platform refused it for good, or out of attempts


class ChannelMap(Base):
    """A chat channel where a team's or a service's alerts and pages are posted."""

    __tablename__ = "chat_channel_maps"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "team_id", "service_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(12))
    # Slack/Mattermost: the channel id; Teams: the Workflows webhook URL.
    channel_id: Mapped[str] = mapped_column(String(2000))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), default=None, index=True)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserLink(Base):
    """A chat user acting as a Tocsin user: matched by verified email, linked once by the
    person through a signed link, or set by an admin."""

    __tablename__ = "chat_user_links"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(12))
    external_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(12))  # email, link, admin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentChannel(Base):
    """The incident's own chat channel (channel_id once the platform has created it)."""

    __tablename__ = "chat_incident_channels"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    summary_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    invited: Mapped[list[str]] = mapped_column(JSONType, default=list)  # chat user ids
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertMessage(Base):
    """A posted alert/page message with buttons, kept so it can be updated."""

    __tablename__ = "chat_alert_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(12))
    channel_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatCall(Base):
    """One outbound chat call (the chat outbox): written in the transaction that wants it,
    sent later by the `chatops.deliver` job, retried, rate-limited. `args` may be completed at
    send time (the incident channel's id, a summary rendered from the incident as it is then).
    """

    __tablename__ = "chat_calls"
    __table_args__ = (
        Index("ix_chat_calls_status_id", "status", "id"),
        Index("ix_chat_calls_method_sent", "method", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(12))
    method: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), default=None, index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=CallStatus.PENDING.value)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    channel_id: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundSeen(Base):
    """Keys of inbound chat requests already handled (event ids, modal submissions), so a
    platform's retry (X-Slack-Retry-Num) does nothing twice."""

    __tablename__ = "chat_inbound_seen"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ChatArrival(Base):
    """An incident as it reached Slack: when, and whether it joined a storm (chatops/storm.py
    decides from the arrivals of the minute before)."""

    __tablename__ = "chat_arrivals"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    grouped: Mapped[bool] = mapped_column(Boolean, default=False)


class StormMessage(Base):
    """One alert channel's message for a storm: the incidents grouped in it, counted and the
    latest listed, edited in place (chat.update) as the storm grows."""

    __tablename__ = "chat_storm_messages"
    __table_args__ = (Index("ix_chat_storm_messages_channel", "platform", "channel_id",
                            "last_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(12))
    channel_id: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str | None] = mapped_column(String(32), default=None)  # once posted
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when its latest incident joined


class StormMember(Base):
    """An incident grouped in a storm message."""

    __tablename__ = "chat_storm_members"

    storm_id: Mapped[int] = mapped_column(
        ForeignKey("chat_storm_messages.id", ondelete="CASCADE"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
