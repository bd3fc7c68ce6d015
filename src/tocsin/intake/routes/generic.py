"""Generic JSON webhook route: `POST /api/v1/intake/generic/{key}`.

The body is validated by `intake/formats/generic.py` against the integration's mapping;
the service it names must exist, and its id is stored with the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import IntegrationKind
from tocsin.api.problems import problem
from tocsin.catalog.models import Service
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.formats.generic import FORMAT, parse_generic, service_named
from tocsin.intake.keys import IntegrationRef
from tocsin.intake.routes.common import hub_of, inbox_row, unknown_key_status
from tocsin.intake.routes.common import read_json as read_body
from tocsin.runtime import Runtime

router = APIRouter(tags=["intake: webhooks"])


def service_of(session: Session, body: Any, mapping: Mapping[str, Any]) -> int | None:
    value = service_named(body, mapping)
    if value is None:
        return None
    query = select(Service.id).where(Service.name == value)
    found = session.scalars(query).first()
    if found is None and value.isdigit():
        found = session.scalars(select(Service.id).where(Service.id == int(value))).first()
    if found is None:
        raise BadInput([f"service: no service named '{value}' (from {mapping['service']})"])
    return found


def _resolve_service(runtime: Runtime, body: Any, integration: IntegrationRef) -> int | None:
    with runtime.read_sessions() as session:
        return service_of(session, body, integration.mapping)


async def accept(request: Request, key: str) -> Response:
    """Validate against the integration's mapping (the service it names must exist), store
    in the inbox and answer 202."""
    hub = hub_of(request)
    settings = hub.runtime.settings
    try:
        integration = await hub.keys.require(key, (IntegrationKind.GENERIC.value,))
        body, raw = await read_body(request, settings.intake_max_body_bytes)
        now = hub.runtime.clock.now()
        parse_generic(body, integration.mapping, now=now)
        service_id = None
        if integration.mapping.get("service"):
            service_id = await run_in_threadpool(_resolve_service, hub.runtime, body,
                                                 integration)
        await hub.accept(inbox_row(integration, FORMAT, raw, received_at=now,
                                   meta={"service_id": service_id}))
    except BodyTooLarge:
        return problem(413, "Payload too large",
                       f"the body is larger than {settings.intake_max_body_bytes} bytes")
    except BadInput as exc:
        return problem(400, "Invalid alert payload", "; ".join(exc.errors), errors=exc.errors)
    except UnknownKey:
        return problem(unknown_key_status(request), "Unknown integration key",
                       "no enabled generic integration has this URL key")
    except Overloaded:
        response = problem(503, "Overloaded", "too many alert requests at once; retry shortly")
        response.headers["Retry-After"] = str(settings.intake_retry_after_seconds)
        return response
    return JSONResponse({"status": "success", "message": "Event accepted"}, status_code=202)


@router.post("/api/v1/intake/generic/{key}", status_code=202, summary="Generic JSON webhook")
async def generic(key: str, request: Request) -> Response:
    return await accept(request, key)
