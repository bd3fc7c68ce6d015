"""Web sign-in: check a password, start, find and end sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.models import User
from tocsin.errors import NotFound
from tocsin.principal import Principal
from tocsin.web.models import WebSession

# Writing last_seen_at on every request would turn every page view into a write; once a
# minute is plenty for an idle timeout measured in hours.
TOUCH_EVERY = timedelta(seconds=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def digest_of(token: str) -> str:
    """A session's id from its cookie token (empty for none)."""
    return _digest(token) if token else ""


def check_password(session: Session, *, email: str, password: str) -> User | None:
    """The active user with this email and password, else None (never says which was wrong)."""
    user = session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())
                           ).first()
    # Exactly one argon2 verification on every path (unknown email, no password, disabled,
    # wrong or right password), so the answer time does not tell which accounts exist.
    stored = user.password_hash if user is not None else None
    matches = accounts.verify_password(stored or _DUMMY_HASH, password)
    if user is None or not stored or not matches or not user.active:
        return None
    return user


_DUMMY_HASH = accounts.hash_password(secrets.token_urlsafe(16))


def start_session(session: Session, *, user: User, now: datetime,
                  idle: timedelta) -> tuple[str, WebSession]:
    """Create a session; returns the cookie token (stored only as a digest) and the row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(id=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, last_seen_at=now, expires_at=now + idle)
    session.add(row)
    session.flush()
    return token, row


def find_session(session: Session, *, token: str, now: datetime,
                 idle: timedelta) -> tuple[WebSession, User] | None:
    """The live session and its active user for a cookie token; slides the idle expiry."""
    if not token or len(token) > 200:
        return None
    row = session.get(WebSession, _digest(token))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = now + idle
    return row, user


def end_session(session: Session, *, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(token)))


def end_user_sessions(session: Session, *, user_id: int, keep_token: str | None = None) -> None:
    """Sign a user out everywhere (after a password change or deactivation)."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token:
        query = query.where(WebSession.id != _digest(keep_token))
    session.execute(query)


def purge_expired(session: Session, *, now: datetime) -> int:
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def list_sessions(session: Session, *, user_id: int | None, now: datetime) -> list[WebSession]:
    """Live sessions, newest first; `user_id` None: everyone's (admins)."""
    query = select(WebSession).where(WebSession.expires_at > now)
    if user_id is not None:
        query = query.where(WebSession.user_id == user_id)
    return list(session.scalars(query.order_by(WebSession.created_at.desc())))


def revoke_session(session: Session, *, actor: Principal, session_id: str) -> None:
    """End a session: one's own, or anyone's for an admin (others' answer not found)."""
    row = session.get(WebSession, session_id)
    if row is None or (row.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("no such session")
    session.delete(row)
