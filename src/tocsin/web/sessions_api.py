"""Sign-in sessions over the API: list your own (admins: anyone's) and end one."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from tocsin.api import pagination
from tocsin.api.deps import RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.audit import service as audit
from tocsin.errors import Forbidden
from tocsin.limits import Id
from tocsin.web import service
from tocsin.web.auth import COOKIE
from tocsin.web.models import WebSession

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


class SessionOut(BaseModel):
    id: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool


def _out(row: WebSession, current: str) -> SessionOut:
    return SessionOut(id=row.id, user_id=row.user_id, created_at=row.created_at,
                      last_seen_at=row.last_seen_at, expires_at=row.expires_at,
                      current=row.id == current)


@router.get("", response_model=Page[SessionOut],
            summary="Live web sessions: yours, or with user_id (admins) someone's")
def list_sessions(request: Request, session: SessionDep, rt: RuntimeDep, who: Viewer,
                  user_id: Id | None = None, cursor: str | None = None,
                  limit: Limit = 100) -> Page[SessionOut]:
    if user_id is not None and user_id != who.user_id and not who.is_admin:
        raise Forbidden("only admins list other people's sessions")
    rows = service.list_sessions(session, user_id=user_id or who.user_id, now=rt.clock.now())
    current = service.digest_of(request.cookies.get(COOKIE, ""))
    numbered = {id(r): n for n, r in enumerate(rows, start=1)}
    return pagination.page_of_all(rows, cursor, limit, lambda r: _out(r, current),
                                  lambda r: numbered[id(r)])


@router.delete("/{session_id}", status_code=204, summary="End a web session (sign it out)")
def revoke(session_id: str, session: SessionDep, rt: RuntimeDep, who: Viewer) -> Response:
    row = session.get(WebSession, session_id)
    service.revoke_session(session, actor=who, session_id=session_id)
    audit.record(session, action="session_revoked", target="web_sessions",
                 target_id=row.user_id if row else "", now=rt.clock.now())
    session.commit()
    return Response(status_code=204)
