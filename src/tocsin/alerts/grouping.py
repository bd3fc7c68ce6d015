"""Pure grouping decisions: which group key an alert belongs to on its service."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from tocsin.limits import fit


class GroupingMode(enum.StrEnum):
    """How a service's alerts become incidents."""

    PER_ALERT = "per_alert"  # one incident per alert
    SERVICE = "service"  # every alert of the service within the window → one incident
    LABELS = "labels"  # alerts sharing the values of `group_labels` within the window

GROUP_KEY_MAX = 500  # alert_groups.group_key: String(500)


def group_key(mode: GroupingMode, *, service_id: int, dedup_key: str,
              labels: Mapping[str, str], group_labels: Sequence[str]) -> str:
    """Alerts with equal keys on one service share an incident while the window is open."""
    if mode is GroupingMode.SERVICE:
        return f"service:{service_id}"
    if mode is GroupingMode.LABELS:
        parts = [f"{name}={labels.get(name, '')}" for name in sorted(group_labels)]
        return fit("labels:" + ",".join(parts), GROUP_KEY_MAX)
    return fit(f"alert:{dedup_key}", GROUP_KEY_MAX)
