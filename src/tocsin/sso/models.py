"""Sign-in beyond a password: OpenID Connect identities and logins in progress, and the
second factor (TOTP) of local accounts with its recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, UTCDateTime


class SsoLogin(Base):
    """A sign-in sent to the provider and not back yet: what the answer must match."""

    __tablename__ = "sso_logins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(String(2000), default="/")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SsoIdentity(Base):
    """A user as the provider knows them (issuer + subject), linked on first sign-in."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TotpCredential(Base):
    """A local account's authenticator app. `enabled_at` is set once a first code proved
    the enrolment; `last_step` refuses a code used before (replay)."""

    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RecoveryCode(Base):
    """A one-time code for when the authenticator is lost; only its SHA-256 is stored."""

    __tablename__ = "totp_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SignInChallenge(Base):
    """A password that was right, waiting for the second factor. The browser holds the
    token; only its SHA-256 is stored."""

    __tablename__ = "sign_in_challenges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    next_url: Mapped[str] = mapped_column(String(2000), default="/")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
