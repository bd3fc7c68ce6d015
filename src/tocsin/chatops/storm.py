"""Alert storms in chat (pure): when new incidents reach chat faster than Slack lets Tocsin
show each on its own, the excess is grouped.

Slack allows about 20 new channels a minute (`conversations.create`, Tier 2) and 50 message
updates (`chat.update`, Tier 3), so a storm of hundreds of incidents a minute, each with its
own channel and alert messages, would take many minutes to show. The rule here: an incident
opened by monitoring joins the storm when `threshold` or more incidents reached chat in the
minute before it; it then gets no channel or alert message of its own, and is counted and
listed in one storm message per alert channel, edited in place as the storm grows. Incidents
declared by a person are never grouped (they still count towards the storm).

Since an incident is shown on its own only while fewer than `threshold` arrived in the minute
before it, at most `threshold` incidents are shown on their own in any minute, however many
arrive; and when arrivals slow below that, grouping stops by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=1)
# What one storm message lists by name (the count covers all): Slack allows 50 blocks and
# 3,000 characters per section, far more than a readable message needs.
LATEST = 10


def grouped(earlier: Sequence[datetime], now: datetime, *, threshold: int,
            by_person: bool = False, window: timedelta = WINDOW) -> bool:
    """Whether an incident reaching chat at `now` joins the storm. `earlier`: when earlier
    incidents reached chat (any order; older than `window` ignored). `threshold` 0: never."""
    if threshold <= 0 or by_person:
        return False
    return sum(1 for t in earlier if now - window < t <= now) >= threshold


def open_storm(last_at: datetime | None, now: datetime, *, window: timedelta = WINDOW) -> bool:
    """Whether a channel's storm message whose last incident joined at `last_at` still
    takes new ones (else a new storm message starts)."""
    return last_at is not None and now - last_at < window


@dataclass(frozen=True)
class StormLine:
    """One incident as a storm message lists it."""

    number: str
    title: str
    severity: str
    status: str
    url: str
