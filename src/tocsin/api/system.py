"""Health and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from tocsin import __version__
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.intake.jobs import inbox_counts

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str
    database: str
    intake_backlog: int  # accepted intake events (inbox rows) not yet triaged
    intake_failed: int  # inbox rows whose triage gave up (GET /api/v1/intake/inbox)


@router.get("/api/v1/health", response_model=Health, summary="Liveness and database check")
def health(session: SessionDep, rt: RuntimeDep) -> Health:
    session.execute(text("SELECT 1"))
    inbox = inbox_counts(rt)
    return Health(status="ok", version=__version__, database=rt.settings.database_kind,
                  intake_backlog=inbox["pending"], intake_failed=inbox["failed"])


@router.get("/metrics", include_in_schema=False)
def metrics(rt: RuntimeDep) -> Response:
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
