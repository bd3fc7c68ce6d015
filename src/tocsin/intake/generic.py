"""Generic JSON webhook: each integration maps JSON paths to title, dedup key, severity,
status and service, so any tool that can POST JSON can raise and resolve alerts."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import IntegrationKind
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.api.problems import problem
from tocsin.catalog.models import Service
from tocsin.intake.common import (
    hub_of,
    inbox_row,
    signals_from,
    string_map,
    unknown_key_status,
)
from tocsin.intake.common import read_json as read_body
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.keys import IntegrationRef
from tocsin.intake.models import InboxRow
from tocsin.runtime import Runtime

router = APIRouter(tags=["intake: webhooks"])
RESOLVED = frozenset({"resolved", "resolve", "ok", "closed", "close", "recovered", "up"})
ACKNOWLEDGED = frozenset({"acknowledged", "acknowledge", "ack"})
FORMAT = "generic"
_STEP = re.compile(r"\[(\d+)\]")


def select_path(document: Any, path: str) -> Any:
    """`$.a.b[0].c` or `a.b.0.c`; None when any step is missing."""
    path = path.strip()
    if path.startswith("$"):
        path = path[1:].lstrip(".")
    current = document
    for part in _STEP.sub(r".\1", path).split("."):
        if part == "":
            continue
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    return str(value)


def parse_generic(body: Any, mapping: Mapping[str, str], *, now: datetime) -> NormalizedEvent:
    if not isinstance(body, Mapping):
        raise BadInput(["body must be a JSON object"])
    title = _scalar(select_path(body, mapping.get("title", "title")))
    if not title:
        raise BadInput([f"title: nothing at {mapping.get('title', 'title')} in the body"])
    dedup = _scalar(select_path(body, mapping["dedup_key"])) if "dedup_key" in mapping else None
    status = (_scalar(select_path(body, mapping["status"])) or "") if "status" in mapping else ""
    action = (EventAction.RESOLVE if status.lower() in RESOLVED else
              EventAction.ACKNOWLEDGE if status.lower() in ACKNOWLEDGED else
              EventAction.TRIGGER)
    severity = _scalar(select_path(body, mapping["severity"])) if "severity" in mapping else None
    source = _scalar(select_path(body, mapping["source"])) if "source" in mapping else None
    flat = string_map({k: v for k, v in body.items() if not isinstance(v, Mapping | list)})
    return NormalizedEvent(
        action=action,
        dedup_key=(dedup or "title-" + hashlib.sha256(title.encode()).hexdigest()[:24])[:255],
        summary=title[:1024], source=(source or "webhook")[:255], occurred_at=now,
        severity=severity, labels=flat, details=dict(body), signals=signals_from(body))


def service_of(session: Session, body: Any, mapping: Mapping[str, Any]) -> int | None:
    path = mapping.get("service")
    if not path:
        return None
    value = _scalar(select_path(body, path))
    if value is None:
        return None
    query = select(Service.id).where(Service.name == value)
    found = session.scalars(query).first()
    if found is None and value.isdigit():
        found = session.scalars(select(Service.id).where(Service.id == int(value))).first()
    if found is None:
        raise BadInput([f"service: no service named '{value}' (from {path})"])
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


def events_from(row: InboxRow, mapping: Mapping[str, Any]) -> list[NormalizedEvent]:
    """The event again, with the integration's mapping as it is now and the service that
    was resolved at arrival."""
    event = parse_generic(json.loads(row.body), mapping, now=row.received_at)
    return [replace(event, integration_id=row.integration_id,
                    service_id=row.meta.get("service_id"))]


@router.post("/api/v1/intake/generic/{key}", status_code=202, summary="Generic JSON webhook")
async def generic(key: str, request: Request) -> Response:
    return await accept(request, key)
