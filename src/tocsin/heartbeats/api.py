"""Routes: manage heartbeats, and the ping URLs cron jobs call (no key: the UUID is the secret)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from tocsin.api import pagination
from tocsin.api.deps import Admin, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.fastlane import METHODS, read_capped
from tocsin.heartbeats.models import PingKind
from tocsin.heartbeats.schemas import HeartbeatCreate, HeartbeatOut, HeartbeatUpdate, PingOut
from tocsin.heartbeats.writer import shared_writer
from tocsin.limits import Id
from tocsin.runtime import Runtime

router = APIRouter(prefix="/api/v1/heartbeats", tags=["heartbeats"])
ping_router = APIRouter(prefix="/ping", tags=["heartbeat pings"])


@router.get("", response_model=Page[HeartbeatOut], summary="List heartbeats, by id")
def list_heartbeats(session: SessionDep, rt: RuntimeDep, who: Viewer, cursor: str | None = None,
                    limit: Limit = 100) -> Page[HeartbeatOut]:
    rows = heartbeats.list_heartbeats(session, after_id=pagination.decode(cursor),
                                      limit=limit + 1)
    return pagination.page(rows, limit, lambda h: heartbeats.to_out(h, rt.settings),
                           lambda h: h.id)


@router.post("", status_code=201, response_model=HeartbeatOut)
def create_heartbeat(data: HeartbeatCreate, session: SessionDep, rt: RuntimeDep,
                     who: Admin) -> HeartbeatOut:
    hb = heartbeats.create_heartbeat(session, data=data, now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return heartbeats.to_out(hb, rt.settings)


@router.get("/{heartbeat_id}", response_model=HeartbeatOut)
def show_heartbeat(heartbeat_id: Id, session: SessionDep, rt: RuntimeDep,
                   who: Viewer) -> HeartbeatOut:
    return heartbeats.to_out(heartbeats.get_heartbeat(session, heartbeat_id), rt.settings)


@router.patch("/{heartbeat_id}", response_model=HeartbeatOut)
def update_heartbeat(heartbeat_id: Id, data: HeartbeatUpdate, session: SessionDep,
                     rt: RuntimeDep, who: Admin) -> HeartbeatOut:
    hb = heartbeats.update_heartbeat(session, hb=heartbeats.get_heartbeat(session, heartbeat_id),
                                     data=data, now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return heartbeats.to_out(hb, rt.settings)


@router.delete("/{heartbeat_id}", status_code=204)
def delete_heartbeat(heartbeat_id: Id, session: SessionDep, who: Admin) -> Response:
    heartbeats.delete_heartbeat(session, heartbeats.get_heartbeat(session, heartbeat_id))
    session.commit()
    return Response(status_code=204)


@router.get("/{heartbeat_id}/pings", response_model=list[PingOut])
def pings(heartbeat_id: Id, session: SessionDep, who: Viewer,
          limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[PingOut]:
    hb = heartbeats.get_heartbeat(session, heartbeat_id)
    return [PingOut(id=p.id, at=p.at, kind=PingKind(p.kind), exit_code=p.exit_code,
                    duration_ms=p.duration_ms, body=p.body, source_ip=p.source_ip)
            for p in heartbeats.recent_pings(session, hb, limit=limit)]


async def _ping(request: Request, key: str, kind: PingKind, exit_code: int | None) -> Response:
    rt: Runtime = request.app.state.runtime
    body = await read_capped(request.receive, rt.settings.heartbeat_body_max_bytes)
    source = request.client.host if request.client else None
    # Committed before we answer: an accepted ping is a stored ping.
    await shared_writer(request.app.state, rt).store(key, kind, exit_code, body, source)
    return Response("OK\n", media_type="text/plain")


KeyPath = Annotated[str, Path(min_length=1, max_length=36, pattern="^[^\x00]+$")]


async def ping_success(key: KeyPath, request: Request) -> Response:
    return await _ping(request, key, PingKind.SUCCESS, None)


async def ping_start(key: KeyPath, request: Request) -> Response:
    return await _ping(request, key, PingKind.START, None)


async def ping_fail(key: KeyPath, request: Request) -> Response:
    return await _ping(request, key, PingKind.FAIL, None)


async def ping_exit_code(key: KeyPath, exit_code: Annotated[int, Path(ge=0, le=255)],
                         request: Request) -> Response:
    return await _ping(request, key, PingKind.SUCCESS, exit_code)


# One route per method, each with its own operation id: a route serving several methods
# gives them all one id, which FastAPI warns about and OpenAPI clients trip over. In
# `tocsin serve` these paths are answered by `fastlane.PingAnswer` before reaching FastAPI.
for _path, _endpoint in (("/{key}", ping_success), ("/{key}/start", ping_start),
                         ("/{key}/fail", ping_fail), ("/{key}/{exit_code}", ping_exit_code)):
    for _method in sorted(METHODS):
        ping_router.add_api_route(_path, _endpoint, methods=[_method], response_class=Response,
                                  operation_id=f"{_endpoint.__name__}_{_method.lower()}")
