"""Runbook routes under /api/v1."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tocsin.api import pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.limits import Id
from tocsin.markup import to_html
from tocsin.runbooks import service
from tocsin.runbooks.models import Runbook
from tocsin.runbooks.schemas import RunbookOut, SyncIn, SyncOut

router = APIRouter(prefix="/api/v1", tags=["runbooks"])


def to_out(session: Session, found: list[Runbook], now: datetime) -> list[RunbookOut]:
    services = service.service_ids(session, [r.id for r in found])
    return [RunbookOut(id=r.id, slug=r.slug, title=r.title, body=r.body,
                       body_html=to_html(r.body), owner_id=r.owner_id, review_at=r.review_at,
                       stale=r.review_at <= now, services=services[r.id], matchers=r.matchers,
                       source_path=r.source_path, updated_at=r.updated_at) for r in found]


@router.post("/runbooks/sync", response_model=SyncOut,
             summary="Create or update runbooks from files: all, or none with each file's "
             "problems")
def sync(data: SyncIn, session: SessionDep, rt: RuntimeDep, who: Responder) -> SyncOut:
    created, updated = service.write_files(session, files=data.files, now=rt.clock.now())
    session.commit()
    return SyncOut(created=created, updated=updated)


@router.get("/runbooks", response_model=Page[RunbookOut], summary="Runbooks by id; `stale`")
def list_runbooks(session: SessionDep, rt: RuntimeDep, who: Viewer, stale: bool = False,
                  cursor: str | None = None, limit: Limit = 100) -> Page[RunbookOut]:
    now = rt.clock.now()
    found = service.list_runbooks(session, after_id=pagination.decode(cursor), limit=limit + 1,
                                  stale_at=now if stale else None)
    page = pagination.page(found, limit, lambda r: r, lambda r: r.id)
    return Page(items=to_out(session, page.items, now), next_cursor=page.next_cursor)


@router.get("/runbooks/{runbook}", response_model=RunbookOut, summary="A runbook by slug or id")
def show(runbook: str, session: SessionDep, rt: RuntimeDep, who: Viewer) -> RunbookOut:
    return to_out(session, [service.get(session, runbook[:200])], rt.clock.now())[0]


@router.get("/incidents/{incident_id}/runbooks", response_model=Page[RunbookOut],
            summary="The runbooks of the incident's services and alerts (one page)")
def of_incident(incident_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
                cursor: str | None = None, limit: Limit = 100) -> Page[RunbookOut]:
    after = pagination.decode(cursor) or 0
    found = [r for r in service.for_incident(session, incident_id=incident_id, viewer=who)
             if r.id > after][:limit + 1]
    page = pagination.page(found, limit, lambda r: r, lambda r: r.id)
    return Page(items=to_out(session, page.items, rt.clock.now()), next_cursor=page.next_cursor)
