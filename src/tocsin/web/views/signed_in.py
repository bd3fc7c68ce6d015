"""What every way of signing in ends with: a session cookie and an audit entry; and what
every refusal ends with: an audit entry, the account otherwise unchanged."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.api.deps import client_address
from tocsin.audit import service as audit
from tocsin.db.actor import Actor
from tocsin.runtime import Runtime
from tocsin.web import service
from tocsin.web.auth import COOKIE, idle
from tocsin.web.render import redirect

CHALLENGE_COOKIE = "tocsin_sign_in_challenge"


def start(session: Session, request: Request, rt: Runtime, *, user: User, next_url: str,
          method: str) -> Response:
    now = rt.clock.now()
    token, _row = service.start_session(session, user=user, now=now, idle=idle(rt))
    audit.record(session, action="sign_in", target="user", target_id=user.id, now=now,
                 detail=f"signed in with {method}",
                 actor=Actor(user_id=user.id, label=user.email, source=client_address(request)))
    session.commit()
    response = redirect(next_url)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=rt.settings.cookies_secure)
    return response


def refused(session: Session, request: Request, *, email: str, now: datetime,
            reason: str, user_id: int | None = None) -> None:
    """Record a refused sign-in in its own transaction (whatever the attempt wrote is
    rolled back first: a refusal changes nothing about the account)."""
    session.rollback()
    audit.record(session, action="sign_in_failed", target="user",
                 target_id=user_id if user_id is not None else email, now=now, detail=reason,
                 actor=Actor(user_id=user_id, label=email or "unknown",
                             source=client_address(request)))
    session.commit()
