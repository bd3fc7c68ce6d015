"""The audit log (admins): newest first, filtered by who, what and when."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from fastapi.responses import Response

from tocsin.api.deps import SessionDep
from tocsin.audit import service as audit
from tocsin.web import queries
from tocsin.web.auth import AdminUser
from tocsin.web.render import pages_of
from tocsin.web.routing import web_router

router = web_router()
PAGE = 100


def _date(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/audit")
def audit_page(request: Request, session: SessionDep, who: AdminUser,
               actor_id: str | None = None, action: str | None = None,
               target: str | None = None, since: str | None = None,
               before_id: int | None = None) -> Response:
    actor = int(actor_id) if actor_id and actor_id.isdigit() else None
    rows = audit.list_entries(session, after_id=before_id, limit=PAGE + 1, actor_id=actor,
                              action=action or None, target=target or None,
                              since=_date(since))
    more = len(rows) > PAGE
    return pages_of(request).render(
        request, "audit.html", who, rows=rows[:PAGE],
        next_id=rows[PAGE - 1].id if more else None,
        users=queries.user_choices(session),
        values={"actor_id": actor_id or "", "action": action or "", "target": target or "",
                "since": since or ""})
