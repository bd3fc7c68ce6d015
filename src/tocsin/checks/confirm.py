"""Deciding up or down from per-location results: N consecutive, K of M live locations.

Pure: plain values in, a decision out. One failed probe is not an outage (DOMAIN §2), and a
silent probe is left out of the quorum instead of being counted as a failure.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class CheckStatus(enum.StrEnum):
    """Confirmed status: it changes only when the confirmation policy says so."""

    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"
    PAUSED = "paused"


@dataclass(frozen=True)
class LocationView:
    """What one location last reported: whether it passed and for how many results in a row."""

    location: str
    ok: bool
    consecutive: int
    live: bool = True


@dataclass(frozen=True)
class Decision:
    status: CheckStatus
    changed: bool
    failing: list[str]
    passing: list[str]
    live: int
    required: int


def required_locations(live: int, configured: int | None) -> int:
    """K: the configured number capped at the live count, else a majority of the live ones."""
    if live <= 0:
        return 0
    if configured is None:
        return live // 2 + 1
    return max(1, min(configured, live))


def decide(
    current: CheckStatus,
    views: Sequence[LocationView],
    *,
    assigned: Sequence[str],
    consecutive_needed: int,
    locations_needed: int | None,
) -> Decision:
    """The confirmed status after the latest results.

    A location counts as failing after `consecutive_needed` failures in a row and as passing
    after as many successes in a row (recovery is confirmed the same way; a new check's first
    `up` needs one success). Assigned locations
    that are not live or have not reported yet do not count towards M.
    """
    by_name = {v.location: v for v in views if v.location in set(assigned)}
    live = [v for v in by_name.values() if v.live]
    k = required_locations(len(live), locations_needed)
    n = max(1, consecutive_needed)
    # Leaving `unknown` for `up` pages nobody, so one success is enough to show a new check
    # as up; leaving `down` needs the full N, like going down.
    n_up = 1 if current == CheckStatus.UNKNOWN else n
    failing = sorted(v.location for v in live if not v.ok and v.consecutive >= n)
    passing = sorted(v.location for v in live if v.ok and v.consecutive >= n_up)
    status = current
    if current == CheckStatus.PAUSED or k == 0:
        status = current
    elif current != CheckStatus.DOWN and len(failing) >= k:
        status = CheckStatus.DOWN
    elif current != CheckStatus.UP and len(passing) >= k:
        status = CheckStatus.UP
    return Decision(status=status, changed=status != current, failing=failing,
                    passing=passing, live=len(live), required=k)
