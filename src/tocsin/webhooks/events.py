"""Which incident events become webhook events, who gets them, and in what shape: pure.

Event types are stable names (`incident.acknowledged`); the body carries `version`, so a
consumer can tell a later shape from this one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

VERSION = 1
EVENT_TYPES = (
    "incident.declared", "incident.acknowledged", "incident.status_changed",
    "incident.severity_changed", "incident.role_changed", "incident.note_added",
    "incident.resolved", "incident.closed", "incident.reopened",
    "alert.created", "alert.acknowledged", "alert.resolved", "test",
)
# An alert's changes (alerts/hooks.py: created, acknowledged, resolved) as event types.
ALERT_EVENT_TYPES = {"created": "alert.created", "acknowledged": "alert.acknowledged",
                     "resolved": "alert.resolved"}
_NOTES = frozenset({"note", "hypothesis", "action", "decision"})
# Status moves reported by their own entries (resolved, closed), or as acknowledged.
_OWN_ENTRY = frozenset({"resolved", "closed"})


def event_type(kind: str, data: dict[str, Any]) -> str | None:
    """The webhook event type of a timeline entry, or None (not published)."""
    if kind == "created":
        return "incident.declared"
    if kind == "status_changed":
        to = data.get("to")
        if to == "acknowledged":
            return "incident.acknowledged"
        return None if to in _OWN_ENTRY else "incident.status_changed"
    if kind in ("role_changed", "role_handoff"):
        return "incident.role_changed"
    if kind in _NOTES:
        return "incident.note_added"
    if kind in ("severity_changed", "resolved", "closed", "reopened"):
        return f"incident.{kind}"
    return None


@dataclass(frozen=True)
class Filter:
    id: int
    event_types: frozenset[str]
    service_ids: frozenset[int]
    team_ids: frozenset[int]
    severities: frozenset[str]
    include_drills: bool = False


@dataclass(frozen=True)
class Facts:
    event_type: str
    service_ids: frozenset[int]
    team_ids: frozenset[int]
    severity: str
    drill: bool = False


def matches(f: Filter, facts: Facts) -> bool:
    """An empty filter list lets everything through; a set one needs an overlap. A drill's
    events (game days) pass only a filter that includes drills."""
    return ((f.include_drills or not facts.drill)
            and (not f.event_types or facts.event_type in f.event_types)
            and (not f.service_ids or bool(f.service_ids & facts.service_ids))
            and (not f.team_ids or bool(f.team_ids & facts.team_ids))
            and (not f.severities or facts.severity in f.severities))


def subscribers(filters: Sequence[Filter], facts: Facts) -> list[int]:
    return [f.id for f in filters if matches(f, facts)]


def body(*, event_id: str, type_: str, at: datetime, incident: dict[str, Any] | None,
         data: dict[str, Any], alert: dict[str, Any] | None = None) -> dict[str, Any]:
    """An incident event carries `incident`; an alert event carries `alert`, and `incident`
    (its incident, or null when none took it)."""
    out = {"version": VERSION, "id": event_id, "type": type_, "occurred_at": at.isoformat(),
           "incident": incident, "data": data}
    if alert is not None:
        out["alert"] = alert
    return out


def backoff(attempts: int, first_seconds: int) -> timedelta:
    """Wait before the next try after `attempts` tries: doubling, at most an hour."""
    return timedelta(seconds=min(3600, first_seconds * 2 ** max(0, attempts - 1)))


def retryable(status: int | None) -> bool:
    """A network error (None), a timeout-ish or throttling code, or a 5xx is tried again;
    other 4xx and 3xx (redirects are not followed) are permanent."""
    return status is None or status in (408, 425, 429) or status >= 500
