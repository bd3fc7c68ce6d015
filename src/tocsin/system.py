"""Health and metrics."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from tocsin import __version__
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import Forbidden, TocsinError, Unauthorized
from tocsin.intake.jobs import inbox_counts
from tocsin.settings import Settings

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


def metrics_refusal(settings: Settings, *, client_host: str | None,
                    authorization: str) -> TocsinError | None:
    """Why /metrics is not served to this client, or None when it is. With a token set,
    every client must send it; without one, only loopback clients are served (unless
    metrics_public)."""
    if settings.metrics_public:
        return None
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        if hmac.compare_digest(authorization.encode(), expected.encode()):
            return None
        return Unauthorized("/metrics needs 'Authorization: Bearer <metrics token>' "
                            "(setting metrics_token)")
    if _is_loopback(client_host):
        return None
    return Forbidden("/metrics answers loopback clients only; set TOCSIN_METRICS_TOKEN (or "
                     "TOCSIN_METRICS_PUBLIC) to scrape it from elsewhere")


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address (e.g. a Unix socket peer has none)
        return False


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, rt: RuntimeDep) -> Response:
    refusal = metrics_refusal(rt.settings, client_host=request.client.host if request.client
                              else None, authorization=request.headers.get("authorization", ""))
    if refusal is not None:
        raise refusal
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
