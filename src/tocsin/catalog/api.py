"""Routes for the service catalog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.api import idempotency, pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.catalog import service
from tocsin.catalog.schemas import ServiceCreate, ServiceOut, ServiceUpdate
from tocsin.limits import Id
from tocsin.runtime import Runtime

router = APIRouter(prefix="/api/v1/services", tags=["services"])


class PagingProblems(Protocol):
    """Why paging for each service would reach nobody. Escalation knows, and sits above
    catalog: the app hands this in (`app.state.service_paging_problems`, tocsin/app.py)."""

    def __call__(self, session: Session, service_ids: list[int], *,
                 now: datetime) -> dict[int, list[str]]: ...


def _paging_problems(request: Request) -> PagingProblems:
    found: PagingProblems = request.app.state.service_paging_problems
    return found


ProblemsDep = Annotated[PagingProblems, Depends(_paging_problems)]


def _flagged(session: Session, rt: Runtime, rows: list[ServiceOut],
             problems_of: PagingProblems) -> list[ServiceOut]:
    problems = problems_of(session, [r.id for r in rows], now=rt.clock.now())
    return [r.model_copy(update={"paging_problems": problems[r.id]}) for r in rows]


@router.get("", response_model=Page[ServiceOut], summary="List services, by id")
def list_services(session: SessionDep, rt: RuntimeDep, who: Viewer, problems: ProblemsDep,
                  cursor: str | None = None, limit: Limit = 100) -> Page[ServiceOut]:
    rows = service.list_services(session, after_id=pagination.decode(cursor), limit=limit + 1)
    found = pagination.page(rows, limit, lambda s: s, lambda s: s.id)
    return Page(items=_flagged(session, rt, service.to_out(session, found.items), problems),
                next_cursor=found.next_cursor)


@router.post("", status_code=201, response_model=ServiceOut)
def create_service(data: ServiceCreate, session: SessionDep, rt: RuntimeDep, who: Responder,
                   idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
                   ) -> ServiceOut | JSONResponse:
    accounts.require_team_manager(session, actor=who, team_id=data.owner_team_id,
                                  what="this service")
    now = rt.clock.now()
    return idempotency.create_once(
        session, user_id=who.user_id, key=idempotency_key, path=router.prefix, request=data,
        now=now, make=lambda: service.to_out(
            session, [service.create_service(session, data=data, now=now)])[0])


@router.get("/{service_id}", response_model=ServiceOut)
def show_service(service_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
                 problems: ProblemsDep) -> ServiceOut:
    return _flagged(session, rt, service.to_out(
        session, [service.get_service(session, service_id)]), problems)[0]


@router.patch("/{service_id}", response_model=ServiceOut)
def update_service(service_id: Id, data: ServiceUpdate, session: SessionDep,
                   who: Responder) -> ServiceOut:
    svc = service.get_service(session, service_id)
    accounts.require_team_move(
        session, actor=who, old_team=svc.owner_team_id, what="this service",
        new_team=data.owner_team_id if "owner_team_id" in data.model_fields_set
        else svc.owner_team_id)
    svc = service.update_service(session, service=svc, data=data)
    session.commit()
    return service.to_out(session, [svc])[0]


@router.delete("/{service_id}", status_code=204)
def delete_service(service_id: Id, session: SessionDep, who: Responder) -> Response:
    svc = service.get_service(session, service_id)
    accounts.require_team_manager(session, actor=who, team_id=svc.owner_team_id,
                                  what="this service")
    service.delete_service(session, svc)
    session.commit()
    return Response(status_code=204)
