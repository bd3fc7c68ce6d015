"""Generic JSON webhook: each integration maps JSON paths to title, dedup key, severity,
status and service, so any tool that can POST JSON can raise and resolve alerts.

The service a body names is looked up by the accept route (it must exist) and kept in the
row's meta; `service_named` only reads the name from the body.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.intake.errors import BadInput
from tocsin.intake.formats.fields import Stored, signals_from, string_map

FORMAT = "generic"  # the integration kind, and the inbox rows' format
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
    """The body's event under the integration's mapping; raises BadInput."""
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


def service_named(body: Any, mapping: Mapping[str, Any]) -> str | None:
    """The service name (or id) at the mapping's `service` path; None without one."""
    path = mapping.get("service")
    if not path:
        return None
    return _scalar(select_path(body, path))


def events_from(row: Stored, mapping: Mapping[str, Any]) -> list[NormalizedEvent]:
    """The event again, with the integration's mapping as it is now and the service that
    was resolved at arrival."""
    event = parse_generic(json.loads(row.body), mapping, now=row.received_at)
    return [replace(event, integration_id=row.integration_id,
                    service_id=row.meta.get("service_id"))]
