"""A post-mortem's timeline and impact, built from the incident's own record.

Pure: plain events and incident facts in, entries and figures out; nothing is typed twice.
Each entry is attributed to the role its author held at that moment (IC, tech, comms),
following `role_changed` entries; the key moments are preselected and the rest stay one
click away (`key=False`, `included=False`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

ROLE_LABELS = {"commander": "IC", "tech_lead": "tech", "comms_lead": "comms"}
# Response targets per severity (DOMAIN §2 and §10): acknowledge, first update, resolve.
TARGETS: dict[str, dict[str, timedelta | None]] = {
    "SEV1": {"acknowledge": timedelta(minutes=5), "first_update": timedelta(minutes=15),
             "resolve": timedelta(hours=2)},
    "SEV2": {"acknowledge": timedelta(minutes=15), "first_update": timedelta(minutes=30),
             "resolve": timedelta(hours=4)},
    "SEV3": {"acknowledge": timedelta(hours=1), "first_update": timedelta(hours=2),
             "resolve": timedelta(hours=24)},
    "SEV4": {"acknowledge": None, "first_update": None, "resolve": None},
}
UPDATE_KINDS = frozenset({"note", "hypothesis", "action", "decision"})
# The only kinds whose `data` this module reads (role changes, status moves): the rest may
# come without it.
DATA_KINDS = frozenset({"role_changed", "status_changed"})


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: datetime
    kind: str
    actor_id: int | None
    body: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Entry:
    event_id: int
    at: datetime
    kind: str
    role: str
    text: str
    key: bool
    moment: str | None


@dataclass(frozen=True)
class Facts:
    severity: str
    detected_at: datetime
    impact_started_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    impact_ended_at: datetime | None
    users_affected: int | None
    services: tuple[str, ...]


def _moment(event: Event) -> str | None:
    if event.kind == "created":
        return "detected"
    if event.kind == "status_changed":
        return {"acknowledged": "acknowledged", "monitoring": "mitigated"}.get(
            str(event.data.get("to")))
    if event.kind == "decision":
        return "decision"
    if event.kind == "resolved":
        return "resolved"
    return None


def build(events: Sequence[Event]) -> list[Entry]:
    """Every event as a timeline entry, in order, with roles held at the time."""
    holders: dict[str, int | None] = {}
    entries: list[Entry] = []
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    applied = 0
    for event in ordered:
        # Role changes take effect from their instant: acknowledging makes the acknowledger
        # IC by an entry written just after the acknowledgement, at the same time.
        while applied < len(ordered) and ordered[applied].at <= event.at:
            change = ordered[applied]
            if change.kind == "role_changed" and change.data.get("role") in ROLE_LABELS:
                to = change.data.get("to")
                holders[str(change.data["role"])] = int(to) if to is not None else None
            applied += 1
        role = "system" if event.actor_id is None else "responder"
        for name, holder in holders.items():
            if holder is not None and holder == event.actor_id:
                role = ROLE_LABELS[name]
                break
        moment = _moment(event)
        entries.append(Entry(event_id=event.id, at=event.at, kind=event.kind, role=role,
                             text=event.body, key=moment is not None, moment=moment))
    return entries


def impact(facts: Facts, events: Sequence[Event]) -> dict[str, Any]:
    """Start, detection, mitigation and resolution times, duration, users, services and
    whether the response targets of the severity were missed (SLA breach)."""
    start = facts.impact_started_at or facts.detected_at
    mitigated = next((e.at for e in sorted(events, key=lambda e: (e.at, e.id))
                      if _moment(e) == "mitigated"), None) or facts.impact_ended_at
    end = facts.impact_ended_at or facts.resolved_at
    breaches = missed_targets(facts, events)
    return {
        "started_at": start.isoformat(), "detected_at": facts.detected_at.isoformat(),
        "acknowledged_at": facts.acknowledged_at.isoformat() if facts.acknowledged_at else None,
        "mitigated_at": mitigated.isoformat() if mitigated else None,
        "resolved_at": facts.resolved_at.isoformat() if facts.resolved_at else None,
        "duration_minutes": round((end - start).total_seconds() / 60, 1) if end else None,
        "users_affected": facts.users_affected, "services": list(facts.services),
        "sla_breach": bool(breaches), "missed_targets": breaches,
    }


def response_times(facts: Facts, events: Sequence[Event]) -> dict[str, timedelta | None]:
    """Time to acknowledge, to the first update and to resolution, from detection."""
    first_update = next((e.at for e in sorted(events, key=lambda e: (e.at, e.id))
                         if e.kind in UPDATE_KINDS), None)
    return {
        "acknowledge": facts.acknowledged_at - facts.detected_at
        if facts.acknowledged_at else None,
        "first_update": first_update - facts.detected_at if first_update else None,
        "resolve": facts.resolved_at - facts.detected_at if facts.resolved_at else None,
    }


def missed_targets(facts: Facts, events: Sequence[Event]) -> list[str]:
    targets = TARGETS.get(facts.severity, {})
    missed = []
    for name, took in response_times(facts, events).items():
        target = targets.get(name)
        if target is not None and (took is None or took > target):
            missed.append(name)
    return missed
