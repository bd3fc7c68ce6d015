"""Known-error and suggestion routes under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tocsin.api import pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.knownerrors import service
from tocsin.knownerrors.models import Problem
from tocsin.knownerrors.schemas import (
    LinkIn,
    ProblemIn,
    ProblemOut,
    ProblemUpdate,
    SuggestionOut,
)
from tocsin.limits import Id
from tocsin.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["known errors"])


def _out(session: Session, p: Problem, viewer: Principal) -> ProblemOut:
    return ProblemOut(id=p.id, title=p.title, symptoms=p.symptoms, workaround=p.workaround,
                      fix_status=p.fix_status, service_id=p.service_id, labels=p.labels,
                      incident_ids=service.incident_ids_of(session, p.id, viewer),
                      created_at=p.created_at, updated_at=p.updated_at)


@router.post("/problems", status_code=201, response_model=ProblemOut,
             summary="Record a known error")
def create(data: ProblemIn, session: SessionDep, rt: RuntimeDep, who: Responder) -> ProblemOut:
    p = service.create_problem(session, data=data, now=rt.clock.now())
    session.commit()
    return _out(session, p, who)


@router.get("/problems", response_model=Page[ProblemOut],
            summary="Known errors by id; `q` searches their title, symptoms and labels "
            "(best first, one page)")
def list_problems(session: SessionDep, who: Viewer, q: str | None = None,
                  cursor: str | None = None, limit: Limit = 100) -> Page[ProblemOut]:
    if q:
        found = service.search_problems(session, query=q[:500], limit=limit)
        return Page(items=[_out(session, p, who) for p in found], next_cursor=None)
    rows = service.list_problems(session, after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, lambda p: _out(session, p, who), lambda p: p.id)


@router.get("/problems/{problem_id}", response_model=ProblemOut)
def show(problem_id: Id, session: SessionDep, who: Viewer) -> ProblemOut:
    return _out(session, service.get_problem(session, problem_id), who)


@router.patch("/problems/{problem_id}", response_model=ProblemOut)
def edit(problem_id: Id, data: ProblemUpdate, session: SessionDep, rt: RuntimeDep,
         who: Responder) -> ProblemOut:
    p = service.get_problem(session, problem_id)
    service.update_problem(session, problem=p, data=data, now=rt.clock.now())
    session.commit()
    return _out(session, p, who)


@router.post("/problems/{problem_id}/incidents", response_model=ProblemOut,
             summary="Link a (recurring) incident to the known error")
def link(problem_id: Id, data: LinkIn, session: SessionDep, rt: RuntimeDep,
         who: Responder) -> ProblemOut:
    p = service.get_problem(session, problem_id)
    service.link(session, problem=p, incident_id=data.incident_id, viewer=who,
                 now=rt.clock.now())
    session.commit()
    return _out(session, p, who)


@router.get("/incidents/{incident_id}/suggestions", response_model=Page[SuggestionOut],
            summary="Known errors, then past incidents, that look like this one (by id)")
def suggestions(incident_id: Id, session: SessionDep, who: Viewer, cursor: str | None = None,
                limit: Limit = 100) -> Page[SuggestionOut]:
    after = pagination.decode(cursor) or 0
    rows = [(s, t, w) for s, t, w in service.suggestions_of(
        session, incident_id=incident_id, viewer=who) if s.id > after][:limit + 1]
    return pagination.page(rows, limit, lambda r: SuggestionOut(
        id=r[0].id, incident_id=r[0].incident_id, kind=r[0].kind, target_id=r[0].target_id,
        title=r[1], rank=r[0].rank, score=r[0].score, reasons=r[0].reasons, workaround=r[2],
        used=r[0].used, used_at=r[0].used_at), lambda r: r[0].id)


@router.post("/suggestions/{suggestion_id}/use", response_model=SuggestionOut,
             summary="Record that a suggestion helped (a known error: links the incident)")
def use(suggestion_id: Id, session: SessionDep, rt: RuntimeDep,
        who: Responder) -> SuggestionOut:
    s = service.use(session, suggestion_id=suggestion_id, viewer=who, now=rt.clock.now())
    session.commit()
    title, workaround = next((t, w) for x, t, w in service.suggestions_of(
        session, incident_id=s.incident_id, viewer=who) if x.id == s.id)
    return SuggestionOut(id=s.id, incident_id=s.incident_id, kind=s.kind, target_id=s.target_id,
                         title=title, rank=s.rank, score=s.score, reasons=s.reasons,
                         workaround=workaround, used=s.used, used_at=s.used_at)
