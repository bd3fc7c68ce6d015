"""Generic JSON webhook: each integration maps JSON paths to title, dedup key, severity,
status and service, so any tool that can POST JSON can raise and resolve alerts."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Integration, IntegrationKind
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.api.deps import RuntimeDep
from tocsin.api.problems import problem
from tocsin.catalog.models import Service
from tocsin.intake.common import (
    BadInput,
    BodyTooLarge,
    Overloaded,
    UnknownKey,
    apply,
    check_url_key,
    signals_from,
    string_map,
    unknown_key_status,
)
from tocsin.intake.common import read_json as read_body

router = APIRouter(tags=["intake: webhooks"])
RESOLVED = frozenset({"resolved", "resolve", "ok", "closed", "close", "recovered", "up"})
ACKNOWLEDGED = frozenset({"acknowledged", "acknowledge", "ack"})
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


def service_of(session: Session, body: Any, integration: Integration) -> int | None:
    path = integration.mapping.get("service")
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


@router.post("/api/v1/intake/generic/{key}", summary="Generic JSON webhook")
async def generic(key: str, request: Request, rt: RuntimeDep) -> Response:
    settings = rt.settings
    try:
        await check_url_key(request, rt, key, (IntegrationKind.GENERIC.value,))
        body, raw = await read_body(request, settings.intake_max_body_bytes)

        def build(session: Session, integration: Integration,
                  now: datetime) -> list[NormalizedEvent]:
            event = parse_generic(body, integration.mapping, now=now)
            sid = service_of(session, body, integration)
            return [replace(event, integration_id=integration.id, service_id=sid)]

        results = await apply(request, rt, key=key, kinds=(IntegrationKind.GENERIC.value,),
                              build=build, raw=raw)
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
    r = results[0]
    return JSONResponse({"status": "success", "alert_id": r.alert_id, "outcome": r.outcome,
                         "incident_id": r.incident_id}, status_code=202)

