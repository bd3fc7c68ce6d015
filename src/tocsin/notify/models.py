"""Contact methods, per-user notification rules, and the outbox of messages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, JSONType, UTCDateTime


class MessageStatus(enum.StrEnum):
    PENDING = "pending"      # waiting for due_at (and for a worker)
    SENDING = "sending"      # claimed by a worker until lease_until
    SENT = "sent"
    FAILED = "failed"        # permanent failure, or out of attempts
    CANCELLED = "cancelled"  # no longer wanted (acknowledged/resolved before it went out)
    DEDUPED = "deduped"      # the same content already reached this contact method


class ContactMethod(Base):
    __tablename__ = "contact_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str] = mapped_column(String(200), default="")
    verify_code: Mapped[str | None] = mapped_column(String(20), default=None)
    # None on rows from before codes expired: their code counts from created_at.
    verify_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VerificationFailure(Base):
    """A wrong or expired contact-method verification code: the audit record admins list, and
    the count the attempt limits read (in the database, so every API process shares it)."""

    __tablename__ = "verification_failures"
    __table_args__ = (
        Index("ix_verification_failures_method_at", "contact_method_id", "attempted_at"),
        Index("ix_verification_failures_user_at", "user_id", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept when the method is deleted: the record outlives it.
    contact_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="SET NULL"), default=None)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), default=None)
    reason: Mapped[str] = mapped_column(String(16))  # wrong | expired
    client_address: Mapped[str | None] = mapped_column(String(64), default=None)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class NotificationRule(Base):
    """Notify `contact_method_id` `delay_minutes` after a page, for one urgency."""

    __tablename__ = "notification_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    urgency: Mapped[str] = mapped_column(String(8))
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    contact_method_id: Mapped[int] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"), index=True)


# The condition of ix_messages_pages_sent; a query reads that index only when its WHERE holds
# this term with a literal (SQLite cannot match a bound parameter to a partial index).
PAGE_ONLY = "kind = 'page'"


class Message(Base):
    """One outgoing message (outbox row), written in the transaction that decided it."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_status_due", "status", "due_at"),
        Index("ix_messages_method_sent", "contact_method_id", "sent_at"),
        Index("ix_messages_incident", "incident_id", "status"),
        Index("ix_messages_address_sent", "address", "sent_at"),
        # Sent pages by time, for the on-call health figures (analytics/queries.py): only
        # page messages are in it; it covers the read. Status first: the read's equality on
        # it and range on sent_at make SQLite prefer this index to ix_messages_status_due
        # even with no statistics (kind too: SQLite reads a WHERE's columns from the index).
        Index("ix_messages_pages_sent", "status", "sent_at", "user_id", "incident_id",
              "contact_method_id", "kind", sqlite_where=text(PAGE_ONLY),
              postgresql_where=text(PAGE_ONLY)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: writing the same decision twice (a retried step) cannot page twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), default=None)
    # A message to a person names their contact method; a message to an address outside
    # the users (a status page subscriber) names no user and carries `channel` + `address`.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None)
    contact_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"), default=None)
    channel: Mapped[str | None] = mapped_column(String(20), default=None)
    address: Mapped[str | None] = mapped_column(String(2000), default=None)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The attempt whose handover to the receiver began (email: just before DATA) and whose
    # outcome is not known yet: set, durably, before the receiver may have the message;
    # cleared when the outcome is recorded (accepted, or refused by a reply). Still set when
    # the message is claimed again (the sender crashed, or lost the connection while waiting
    # for the reply): that send may repeat one the receiver already has.
    handover_attempt: Mapped[int | None] = mapped_column(Integer, default=None)
    # How many sends of this message may have repeated an earlier one (see above). SMTP
    # offers no way to ask; the copy carries the same Message-ID and X-Tocsin-Message.
    possibly_duplicated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The attempt recorded "committed to send" at the end of its handover (email: the whole
    # message went out but the final dot of DATA, notify/guarantee.py AT_MOST_ONCE), whose
    # outcome is not known yet. Still set when the message is claimed again: it is then not
    # sent again but recorded sent with `delivery_unconfirmed` (the server has it, unless
    # the sender died in the microseconds between this record and writing the dot).
    committed_attempt: Mapped[int | None] = mapped_column(Integer, default=None)
    # Recorded sent without the receiver's reply (the sender died, or lost the connection,
    # after committing to send): delivered as far as Tocsin knows, not confirmed.
    delivery_unconfirmed: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())


class UsedAckLink(Base):
    """An acknowledge link that has acknowledged once: the same link again is refused
    (a replayed or forwarded link). Keyed by a digest of the token, not the token."""

    __tablename__ = "used_ack_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
