"""PagerDuty Events API v2: `POST /v2/enqueue` and change events `POST /v2/change/enqueue`.

Answers use PagerDuty's own shapes, so the official clients and every tool that speaks
Events v2 work unchanged:
202 `{"status": "success", "message": "Event processed", "dedup_key": ...}`,
400 `{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}`,
429 `{"status": "throttle event", ...}` with Retry-After.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import ChangeEvent, IntegrationKind
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.api.deps import RuntimeDep
from tocsin.intake.common import (
    find_integration,
    hub_of,
    inbox_row,
    parse_time,
    read_json,
    signals_from,
)
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.models import InboxRow

router = APIRouter(tags=["intake: PagerDuty Events v2"])
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY = 1024
KINDS = (IntegrationKind.PAGERDUTY.value,)
FORMAT = "pagerduty"


@dataclass(frozen=True)
class PdEvent:
    routing_key: str
    event: NormalizedEvent


def _str(body: Mapping[str, Any], name: str, errors: list[str], *, required: bool,
         max_len: int = 1024) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            errors.append(f"'{name}' is missing or blank")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"'{name}' must be a non-empty string")
        return None
    if len(value) > max_len:
        errors.append(f"'{name}' is longer than {max_len} characters")
        return None
    return value


def _links(value: Any, errors: list[str]) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        errors.append("'links' must be a list of objects with 'href' and optional 'text'")
        return []
    return [{"href": str(v.get("href", ""))[:2000], "text": str(v.get("text", ""))[:500]}
            for v in value[:50]]


def parse_event(body: Any, *, now: datetime) -> PdEvent:
    """Validate one Events v2 body; raises BadInput with every problem found."""
    if not isinstance(body, Mapping):
        raise BadInput(["Event object must be a JSON object"])
    errors: list[str] = []
    routing_key = _str(body, "routing_key", errors, required=True, max_len=64) or ""
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    dedup_key = _str(body, "dedup_key", errors, required=action != "trigger", max_len=255)
    links = _links(body.get("links"), errors)
    images = body.get("images")
    if images is not None and not isinstance(images, list):
        errors.append("'images' must be a list of objects with 'src'")
    payload = body.get("payload")
    summary, source, severity = "", "", None
    labels: dict[str, str] = {}
    details: dict[str, Any] = {}
    occurred = now
    if action == "trigger":
        if not isinstance(payload, Mapping):
            errors.append("'payload' is missing or is not an object")
        else:
            summary = _str(payload, "summary", errors, required=True, max_len=MAX_SUMMARY) or ""
            source = _str(payload, "source", errors, required=True, max_len=255) or ""
            severity = payload.get("severity")
            if severity not in SEVERITIES:
                errors.append("'payload.severity' must be one of critical, error, warning, info")
            for name in ("component", "group", "class"):
                value = _str(payload, name, errors, required=False, max_len=255)
                if value:
                    labels[name] = value
            custom = payload.get("custom_details")
            details = dict(custom) if isinstance(custom, Mapping) else (
                {} if custom is None else {"custom_details": custom})
            if payload.get("timestamp") is not None and not isinstance(payload["timestamp"], str):
                errors.append("'payload.timestamp' must be an ISO 8601 string")
            occurred = parse_time(payload.get("timestamp"), now, errors, "payload.timestamp")
    if errors:
        raise BadInput(errors)
    if isinstance(images, list) and images:
        details = {**details, "_images": images[:20]}
    event = NormalizedEvent(
        action=EventAction(str(action)), dedup_key=dedup_key or uuid.uuid4().hex,
        summary=summary, source=source or "pagerduty-events-v2", occurred_at=occurred,
        severity=severity, labels=labels,
        details=details, links=links, signals=signals_from(details))
    return PdEvent(routing_key=routing_key, event=event)


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


def events_from(row: InboxRow) -> list[NormalizedEvent]:
    """The stored event again, parsed as at arrival (with the dedup key generated then)."""
    event = parse_event(json.loads(row.body), now=row.received_at).event
    return [replace(event, dedup_key=row.meta["dedup_key"], integration_id=row.integration_id)]


@router.post("/v2/enqueue", status_code=202, summary="PagerDuty Events API v2 (alerts)")
async def enqueue(request: Request) -> Response:
    return await accept(request)


def parse_change(body: Any, *, now: datetime) -> tuple[str, dict[str, Any]]:
    if not isinstance(body, Mapping):
        raise BadInput(["Event object must be a JSON object"])
    errors: list[str] = []
    routing_key = _str(body, "routing_key", errors, required=True, max_len=64) or ""
    payload = body.get("payload")
    if not isinstance(payload, Mapping):
        raise BadInput([*errors, "'payload' is missing or is not an object"])
    summary = _str(payload, "summary", errors, required=True, max_len=1024) or ""
    source = _str(payload, "source", errors, required=False, max_len=255) or ""
    links = _links(body.get("links"), errors)
    at = parse_time(payload.get("timestamp"), now, errors, "payload.timestamp")
    if errors:
        raise BadInput(errors)
    custom = payload.get("custom_details")
    return routing_key, {"summary": summary, "source": source, "links": links, "at": at,
                         "details": dict(custom) if isinstance(custom, Mapping) else {}}


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
