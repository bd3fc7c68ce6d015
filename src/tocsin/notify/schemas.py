"""Request and response bodies for contact methods, notification rules and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tocsin.limits import Id
from tocsin.notify.contract import ChannelKind


class ContactMethodIn(BaseModel):
    kind: ChannelKind
    address: str = Field(min_length=1, max_length=2000,
                         description="Email address, webhook URL, or Apprise URL.")
    label: str = ""


class ContactMethodOut(BaseModel):
    id: int
    user_id: Id
    kind: ChannelKind
    address: str
    label: str
    verified: bool
    verification_error: str | None


class VerifyIn(BaseModel):
    code: str = Field(max_length=20)


class VerificationFailureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    contact_method_id: int | None = Field(description="None once the method was deleted.")
    user_id: int = Field(description="Owner of the contact method.")
    actor_user_id: int | None = Field(description="Who sent the code.")
    api_key_id: int | None = Field(description="The API key used, if any (else the web app).")
    reason: Literal["wrong", "expired"]
    client_address: str | None
    attempted_at: datetime


class RuleIn(BaseModel):
    urgency: Literal["high", "low"] = Field(description="high: SEV1-2, low: SEV3-4.")
    delay_minutes: int = Field(0, ge=0, le=24 * 60)
    contact_method_id: Id


class RulesIn(BaseModel):
    rules: list[RuleIn]


class RuleOut(RuleIn):
    id: int


class MessageOut(BaseModel):
    id: int
    kind: str
    status: str
    user_id: Id
    contact_method_id: Id
    due_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None
    possibly_duplicated: int = Field(
        0, description="Sends of this message that may have repeated one the receiver "
        "already had (a crash, or a lost reply, after the message was handed over; SMTP "
        "cannot tell). The copies carry the same Message-ID / idempotency key.")
    delivery_unconfirmed: bool = Field(
        False, description="Recorded sent without the receiver's reply: a message sent at "
        "most once (a bulletin) whose sender stopped, or lost the connection, after "
        "committing to send it; never sent again. Pages are never unconfirmed: they are "
        "sent again instead (possibly_duplicated).")
    payload: dict[str, Any]
