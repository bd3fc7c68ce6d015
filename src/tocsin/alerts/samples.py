"""A ready-to-send request for each kind of integration: what `tocsin integration test` posts
and what the copy-paste curl example shows, built from one place so the two never differ.

Generic webhooks get a body built from the integration's own mapping (a value at each
mapped path), so the example works for that integration as configured rather than for an
imagined default shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tocsin.alerts.models import IntegrationKind

TITLE = "Test alert from Tocsin"
_STEP = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class SampleRequest:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


def intake_url(kind: IntegrationKind, key: str, base: str) -> str:
    if kind is IntegrationKind.PAGERDUTY:
        return f"{base}/v2/enqueue"
    if kind is IntegrationKind.OPSGENIE:
        return f"{base}/v2/alerts"
    return f"{base}/api/v1/intake/{kind.value}/{key}"


def sample_request(kind: IntegrationKind, key: str, base: str, *, service_id: int,
                   mapping: dict[str, str], dedup_key: str) -> SampleRequest:
    """One triggering event for this integration, as its sender would post it."""
    url = intake_url(kind, key, base)
    json_only = {"Content-Type": "application/json"}
    if kind is IntegrationKind.PAGERDUTY:
        return SampleRequest(url, json_only, {
            "routing_key": key, "event_action": "trigger", "dedup_key": dedup_key,
            "payload": {"summary": TITLE, "source": "tocsin-cli", "severity": "critical"}})
    if kind is IntegrationKind.OPSGENIE:
        return SampleRequest(url, {**json_only, "Authorization": f"GenieKey {key}"}, {
            "message": TITLE, "alias": dedup_key, "priority": "P1"})
    if kind in (IntegrationKind.ALERTMANAGER, IntegrationKind.GRAFANA):
        return SampleRequest(url, json_only, {"version": "4", "status": "firing", "alerts": [{
            "status": "firing", "fingerprint": dedup_key,
            "labels": {"alertname": "TocsinTest", "severity": "critical"},
            "annotations": {"summary": TITLE}}]})
    values = {"title": TITLE, "dedup_key": dedup_key, "severity": "critical",
              "status": "firing", "service": str(service_id), "source": "tocsin-cli"}
    body: dict[str, Any] = {}
    # Title first: when two fields share a path the first one set stays, and the title is
    # the one field a generic event must have.
    for field, value in values.items():
        path = mapping.get(field, "title" if field == "title" else None)
        if path:
            _put(body, path, value)
    return SampleRequest(url, json_only, body)


def _put(document: dict[str, Any], path: str, value: str) -> None:
    """Set `value` at a mapping path (`$.a.b[0]` or `a.b.0`), making the objects and lists on
    the way; a path that runs through a value already set is left alone."""
    path = path.strip()
    if path.startswith("$"):
        path = path[1:].lstrip(".")
    steps = [s for s in _STEP.sub(r".\1", path).split(".") if s]
    if not steps:
        return
    current: Any = document
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        empty: Any = [] if following is not None and following.isdigit() else {}
        if isinstance(current, list) and step.isdigit():
            index = int(step)
            current.extend([None] * (index + 1 - len(current)))
            if following is None:
                current[index] = value
                return
            if current[index] is None:
                current[index] = empty
            current = current[index]
        elif isinstance(current, dict):
            if following is None:
                current.setdefault(step, value)
                return
            current = current.setdefault(step, empty)
        else:
            return
