"""PagerDuty Events API v2: alert events (trigger, acknowledge, resolve) and change events.

`parse_event` validates one body as PagerDuty does and reports every problem at once; a
trigger without `dedup_key` gets a new one, which the accept route answers and stores in
the row's meta so the processor rebuilds the very same event (`events_from`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.intake.errors import BadInput
from tocsin.intake.formats.fields import Stored, parse_time, signals_from

FORMAT = "pagerduty"  # the integration kind, and the inbox rows' format
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY = 1024


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


def events_from(row: Stored) -> list[NormalizedEvent]:
    """The stored event again, parsed as at arrival (with the dedup key generated then)."""
    event = parse_event(json.loads(row.body), now=row.received_at).event
    return [replace(event, dedup_key=row.meta["dedup_key"], integration_id=row.integration_id)]


def parse_change(body: Any, *, now: datetime) -> tuple[str, dict[str, Any]]:
    """A change event's routing key and the change's fields; raises BadInput."""
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
