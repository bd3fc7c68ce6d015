"""Routes: manage checks and probes; the probe agents' own endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, Security
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from tocsin.api import pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.checks import probes, rollup, yamlio
from tocsin.checks import service as checks
from tocsin.checks.models import CheckStatus, Probe
from tocsin.checks.schemas import (
    Assignment,
    CheckCreate,
    CheckDetail,
    CheckOut,
    CheckPage,
    CheckUpdate,
    History,
    HistoryPoint,
    ProbeCreate,
    ProbeCreated,
    ProbeOut,
    PushAnswer,
    PushBatch,
    ResultOut,
    RunScheduled,
)
from tocsin.errors import Forbidden, Invalid, Unauthorized
from tocsin.limits import Id
from tocsin.runtime import Runtime

router = APIRouter(prefix="/api/v1/checks", tags=["checks"])
probes_router = APIRouter(prefix="/api/v1/probes", tags=["probes"])
agent_router = APIRouter(prefix="/api/v1/probe", tags=["probe agent"])


@router.get("", response_model=CheckPage)
def list_checks(session: SessionDep, who: Viewer, cursor: str | None = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                status: CheckStatus | None = None, service_id: Id | None = None) -> CheckPage:
    rows = checks.list_checks(session, after_id=pagination.decode(cursor), limit=limit + 1,
                              status=status.value if status else None, service_id=service_id)
    more = len(rows) > limit
    rows = rows[:limit]
    return CheckPage(items=[checks.to_out(c, reveal=who.is_admin) for c in rows],
                     next_cursor=pagination.encode(rows[-1].id) if more else None)


@router.post("", status_code=201, response_model=CheckOut)
def create_check(data: CheckCreate, session: SessionDep, rt: RuntimeDep, who: Admin) -> CheckOut:
    check = checks.create_check(session, data=data, now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return checks.to_out(check)


@router.get("/export", response_class=PlainTextResponse,
            responses={200: {"content": {"application/yaml": {}}}})
def export_checks(session: SessionDep, who: Admin) -> PlainTextResponse:
    """Every check as YAML (checks as code); `POST /import` takes the same format. Admins
    only: the file holds the checks' passwords and header values."""
    return PlainTextResponse(yamlio.export_yaml(session), media_type="application/yaml")


@router.post("/import", response_model=dict[str, list[str]])
async def import_checks(request: Request, session: SessionDep, rt: RuntimeDep,
                        who: Admin) -> dict[str, list[str]]:
    """Create or update checks from a YAML body; all or nothing."""
    raw = await request.body()
    if len(raw) > 5 * 1024 * 1024:
        raise Invalid("the YAML file is larger than 5 MB")
    text = raw.decode("utf-8", errors="replace")

    def store() -> dict[str, list[str]]:
        # The request's own session: on SQLite it already holds the write lock, and a
        # second session would wait for it forever.
        done = yamlio.import_yaml(session, text, now=rt.clock.now(), settings=rt.settings)
        session.commit()
        return done

    return await run_in_threadpool(store)


@router.get("/{check_id}", response_model=CheckDetail)
def show_check(check_id: Id, session: SessionDep, who: Viewer) -> CheckDetail:
    return checks.to_detail(session, checks.get_check(session, check_id), reveal=who.is_admin)


@router.patch("/{check_id}", response_model=CheckOut)
def update_check(check_id: Id, data: CheckUpdate, session: SessionDep, rt: RuntimeDep,
                 who: Admin) -> CheckOut:
    check = checks.update_check(session, check=checks.get_check(session, check_id), data=data,
                                now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return checks.to_out(check)


@router.delete("/{check_id}", status_code=204)
def delete_check(check_id: Id, session: SessionDep, rt: RuntimeDep, who: Admin) -> Response:
    checks.delete_check(session, checks.get_check(session, check_id), now=rt.clock.now(),
                        settings=rt.settings)
    session.commit()
    return Response(status_code=204)


@router.post("/{check_id}/run", status_code=202, response_model=RunScheduled)
def run_now(check_id: Id, session: SessionDep, rt: RuntimeDep, who: Responder) -> RunScheduled:
    """Make the check due now at each of its locations (responders, like other actions on
    live things); the results arrive as usual, within seconds."""
    scheduled = checks.request_run(session, check=checks.get_check(session, check_id),
                                   now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return scheduled


@router.get("/{check_id}/results", response_model=list[ResultOut])
def latest_results(check_id: Id, session: SessionDep, who: Viewer,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ResultOut]:
    checks.get_check(session, check_id)
    return [ResultOut(location=r.location, at=r.at, ok=r.ok, latency_ms=r.latency_ms,
                      reason=r.reason)
            for r in checks.latest_results(session, check_id, limit=limit)]


@router.get("/{check_id}/history", response_model=History)
def history(check_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
            period: Literal["hour", "day"] = "hour",
            days: Annotated[int, Query(ge=1, le=400)] = 1) -> History:
    """Uptime % and response times per hour or day (rolled up by the worker every minute)."""
    checks.get_check(session, check_id)
    rows = rollup.history(session, check_id, period=period,
                          since=rt.clock.now() - timedelta(days=days))
    points = [HistoryPoint(start=r.start, total=r.total, ok=r.ok_count,
                           uptime_pct=round(100 * r.ok_count / r.total, 3) if r.total else None,
                           latency_avg_ms=round(r.latency_sum_ms / r.total, 1) if r.total
                           else None, latency_max_ms=r.latency_max_ms) for r in rows]
    total, ok = sum(p.total for p in points), sum(p.ok for p in points)
    return History(check_id=check_id, period=period,
                   uptime_pct=round(100 * ok / total, 3) if total else None, points=points)


# ---- probe management ----------------------------------------------------------------------

def _probe_out(p: Probe) -> ProbeOut:
    return ProbeOut(id=p.id, name=p.name, status=p.status, last_seen_at=p.last_seen_at,
                    created_at=p.created_at)


@probes_router.get("", response_model=Page[ProbeOut], summary="List probes, by id")
def list_probes(session: SessionDep, who: Viewer, cursor: str | None = None,
                limit: Limit = 100) -> Page[ProbeOut]:
    return pagination.page_of_all(probes.list_probes(session), cursor, limit, _probe_out,
                                  lambda p: p.id)


@probes_router.post("", status_code=201, response_model=ProbeCreated)
def create_probe(data: ProbeCreate, session: SessionDep, rt: RuntimeDep,
                 who: Admin) -> ProbeCreated:
    probe, token = probes.create_probe(session, data=data, now=rt.clock.now())
    session.commit()
    return ProbeCreated(**_probe_out(probe).model_dump(), token=token)


@probes_router.delete("/{probe_id}", status_code=204)
def delete_probe(probe_id: Id, session: SessionDep, rt: RuntimeDep, who: Admin) -> Response:
    probes.delete_probe(session, probes.get_probe(session, probe_id), now=rt.clock.now(),
                        settings=rt.settings)
    session.commit()
    return Response(status_code=204)


# ---- the agent's endpoints (probe token, not a user key) ----------------------------------

LocationHeader = Annotated[str | None, Header(alias="X-Probe-Location")]


def _probe_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(probes.TOKEN_PREFIX):
        raise Unauthorized("probe endpoints need 'Authorization: Bearer <probe token>'")
    return token.strip()


def probe_early(request: Request, runtime: Runtime) -> None:
    """Refuse an unknown probe token before the body is read (api/guard.py runs this for
    routes that depend on `probe_dependency`, which then does the full check)."""
    token = _probe_token(request.headers.get("authorization"))
    with runtime.read_sessions() as session:
        if not probes.token_known(session, token):
            raise Unauthorized("unknown probe token")


# For the OpenAPI document only (securitySchemes); probe_dependency reads the header.
_probe_scheme = HTTPBearer(auto_error=False, scheme_name="probeToken", bearerFormat="tprobe_…",
                           description="A probe agent's token (POST /api/v1/probes).")


def probe_dependency(session: SessionDep, rt: RuntimeDep,
                     authorization: Annotated[str | None, Header()] = None,
                     location: LocationHeader = None,
                     _doc: Annotated[HTTPAuthorizationCredentials | None,
                                     Security(_probe_scheme)] = None) -> Probe:
    """The calling probe."""
    probe = probes.authenticate(session, token=_probe_token(authorization), now=rt.clock.now(),
                                settings=rt.settings)
    if location is not None and location != probe.name:
        raise Forbidden(f"this token belongs to location '{probe.name}', not '{location}'")
    return probe


ProbeDep = Annotated[Probe, Depends(probe_dependency)]


@agent_router.get("/assignments", response_model=list[Assignment])
def assignments(session: SessionDep, probe: ProbeDep) -> list[Assignment]:
    out = probes.assignments(session, probe)
    session.commit()  # last seen, and back online
    return out


@agent_router.post("/results", response_model=PushAnswer)
def push_results(batch: PushBatch, session: SessionDep, rt: RuntimeDep,
                 probe: ProbeDep) -> PushAnswer:
    accepted, ignored = probes.accept_results(session, probe, batch.results,
                                              now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return PushAnswer(accepted=accepted, ignored=ignored)
