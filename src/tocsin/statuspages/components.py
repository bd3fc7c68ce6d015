"""A component's status, from its services' open incidents and maintenance (pure).

Worst first wins: an open SEV1 on any of the component's services is a major outage, SEV2 a
partial outage, SEV3/SEV4 degraded performance; a service in an active maintenance window
with no incident is under maintenance. A manual override replaces the derived status and is
shown as such. The page's overall indicator follows the worst component.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class ComponentStatus(enum.StrEnum):
    """The Atlassian Statuspage values, so existing widgets read them unchanged."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED = "degraded_performance"
    PARTIAL = "partial_outage"
    MAJOR = "major_outage"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ComponentStatus.OPERATIONAL: "Operational",
    ComponentStatus.UNDER_MAINTENANCE: "Under maintenance",
    ComponentStatus.DEGRADED: "Degraded performance",
    ComponentStatus.PARTIAL: "Partial outage",
    ComponentStatus.MAJOR: "Major outage",
}
# Order of badness (the worst shown).
_RANK = {s: i for i, s in enumerate(ComponentStatus)}
_BY_SEVERITY = {"SEV1": ComponentStatus.MAJOR, "SEV2": ComponentStatus.PARTIAL,
                "SEV3": ComponentStatus.DEGRADED, "SEV4": ComponentStatus.DEGRADED}


@dataclass(frozen=True)
class Derived:
    status: ComponentStatus
    overridden: bool  # set by hand, not derived


def worst(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    return max(statuses, key=_RANK.__getitem__, default=ComponentStatus.OPERATIONAL)


def derive(*, open_severities: Iterable[str], in_maintenance: bool,
           override: str | None) -> Derived:
    """The component's status from the severities of its services' open (visible)
    incidents, whether one of its services is in maintenance, and the override."""
    if override is not None:
        return Derived(ComponentStatus(override), True)
    found = [_BY_SEVERITY.get(s, ComponentStatus.DEGRADED) for s in open_severities]
    if in_maintenance:
        found.append(ComponentStatus.UNDER_MAINTENANCE)
    return Derived(worst(found), False)


def indicator(statuses: Iterable[ComponentStatus]) -> tuple[str, str]:
    """The page's (indicator, description) in Statuspage's terms."""
    w = worst(statuses)
    if w is ComponentStatus.MAJOR:
        return "major", "Major System Outage"
    if w is ComponentStatus.PARTIAL:
        return "minor", "Partial System Outage"
    if w is ComponentStatus.DEGRADED:
        return "minor", "Degraded System Performance"
    if w is ComponentStatus.UNDER_MAINTENANCE:
        return "maintenance", "Service Under Maintenance"
    return "none", "All Systems Operational"
