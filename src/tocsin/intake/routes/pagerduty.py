"""PagerDuty Events API v2 routes: `POST /v2/enqueue` and change events `POST /v2/change/enqueue`.

Answers use PagerDuty's own shapes, so the official clients and every tool that speaks
Events v2 work unchanged:
202 `{"status": "success", "message": "Event processed", "dedup_key": ...}`,
400 `{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}`,
429 `{"status": "throttle event", ...}` with Retry-After.
The body is validated by `intake/formats/pagerduty.py`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import ChangeEvent, IntegrationKind
from tocsin.api.deps import RuntimeDep
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.formats.pagerduty import FORMAT, parse_change, parse_event
from tocsin.intake.routes.common import find_integration, hub_of, inbox_row, read_json

router = APIRouter(tags=["intake: PagerDuty Events v2"])
KINDS = (IntegrationKind.PAGERDUTY.value,)


def invalid(errors: list[str]) -> JSONResponse:
    return JSONResponse({"status": "invalid event", "message": "Event object is invalid",
                         "errors": errors}, status_code=400)


def throttled(retry_after: int) -> JSONResponse:
    return JSONResponse({"status": "throttle event",
                         "message": "Requests for this service are arriving too quickly. "
                                    "Please retry later."},
                        status_code=429, headers={"Retry-After": str(retry_after)})


async def accept(request: Request) -> Response:
    """Validate, resolve the routing key, store in the inbox, answer 202 with the dedup key."""
    hub = hub_of(request)
    settings = hub.runtime.settings
    try:
        body, raw = await read_json(request, settings.intake_max_body_bytes)
        now = hub.runtime.clock.now()
        parsed = parse_event(body, now=now)
        integration = await hub.keys.require(parsed.routing_key, KINDS)
        # The routing key is a secret: keep the payload for inspection, not the key.
        raw = raw.replace(parsed.routing_key, "<routing_key>")
        await hub.accept(inbox_row(integration, FORMAT, raw, received_at=now,
                                   meta={"dedup_key": parsed.event.dedup_key}))
    except BodyTooLarge:
        return invalid([f"Request body is larger than {settings.intake_max_body_bytes} bytes"])
    except BadInput as exc:
        return invalid(exc.errors)
    except UnknownKey:
        return invalid(["Invalid routing key: no enabled PagerDuty-compatible integration "
                        "has this key"])
    except Overloaded:
        return throttled(settings.intake_retry_after_seconds)
    return JSONResponse({"status": "success", "message": "Event processed",
                         "dedup_key": parsed.event.dedup_key}, status_code=202)


@router.post("/v2/enqueue", status_code=202, summary="PagerDuty Events API v2 (alerts)")
async def enqueue(request: Request) -> Response:
    return await accept(request)


def _record_change(rt: Any, key: str, change: dict[str, Any]) -> None:
    now = rt.clock.now()
    with rt.sessions() as session, session.begin():
        integration = find_integration(session, key, KINDS)
        session.add(ChangeEvent(integration_id=integration.id,
                                service_id=integration.service_id, created_at=now, **change))


@router.post("/v2/change/enqueue", status_code=202, summary="PagerDuty change events")
async def change_enqueue(request: Request, rt: RuntimeDep) -> JSONResponse:
    settings = rt.settings
    gate = hub_of(request).gate
    try:
        body, _raw = await read_json(request, settings.intake_max_body_bytes)
        key, change = parse_change(body, now=rt.clock.now())
        gate.enter()
        try:
            await run_in_threadpool(_record_change, rt, key, change)
        finally:
            gate.leave()
    except BodyTooLarge:
        return invalid([f"Request body is larger than {settings.intake_max_body_bytes} bytes"])
    except BadInput as exc:
        return invalid(exc.errors)
    except UnknownKey:
        return invalid(["Invalid routing key"])
    except Overloaded:
        return throttled(settings.intake_retry_after_seconds)
    return JSONResponse({"status": "success", "message": "Change event processed"},
                        status_code=202)
