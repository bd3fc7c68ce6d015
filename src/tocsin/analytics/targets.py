"""Response targets per severity (DOMAIN §3) and each incident's verdict against them."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.analytics.measures import Facts

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
MEASURES = ("ack", "update", "resolve")


@dataclass(frozen=True)
class Target:
    """Minutes allowed from creation to the first acknowledgement, the first update and the
    final resolution; None: no target for that step."""

    severity: str
    ack_minutes: int | None
    update_minutes: int | None
    resolve_minutes: int | None

    def minutes(self, measure: str) -> int | None:
        if measure == "ack":
            return self.ack_minutes
        if measure == "update":
            return self.update_minutes
        if measure == "resolve":
            return self.resolve_minutes
        raise KeyError(measure)


# DOMAIN §3 and §10: SEV1 acknowledged in 5 min, first update within the 20-minute cadence,
# resolved in 2 h (novel failure); SEV2 15 min / 30 min / 8 h; SEV3 1 h / 4 h / 3 days;
# SEV4 is backlog: no acknowledgement or update target, resolved within 30 days.
DEFAULT_TARGETS: dict[str, Target] = {
    "SEV1": Target("SEV1", 5, 20, 120),
    "SEV2": Target("SEV2", 15, 30, 8 * 60),
    "SEV3": Target("SEV3", 60, 4 * 60, 3 * 24 * 60),
    "SEV4": Target("SEV4", None, None, 30 * 24 * 60),
}


class Verdict(enum.StrEnum):
    MET = "met"
    MISSED = "missed"  # done late, or not done and already late
    PENDING = "pending"  # not done yet, not late yet
    NONE = "none"  # no target for this severity and step


def _done_at(f: Facts, measure: str) -> datetime | None:
    if measure == "ack":
        return f.acknowledged_at
    if measure == "update":
        return f.first_update_at
    return f.resolved_at


def verdict(f: Facts, target: Target, measure: str, *, now: datetime) -> Verdict:
    minutes = target.minutes(measure)
    if minutes is None:
        return Verdict.NONE
    deadline = f.created_at + timedelta(minutes=minutes)
    done = _done_at(f, measure)
    if done is None:
        return Verdict.MISSED if now > deadline else Verdict.PENDING
    return Verdict.MET if done <= deadline else Verdict.MISSED


def verdicts(f: Facts, targets: Mapping[str, Target], *, now: datetime) -> dict[str, Verdict]:
    target = targets.get(f.severity, Target(f.severity, None, None, None))
    return {m: verdict(f, target, m, now=now) for m in MEASURES}


@dataclass(frozen=True)
class Compliance:
    group: str
    measure: str
    met: int
    missed: int
    pending: int

    @property
    def rate(self) -> float | None:
        """Met over decided (met + missed); pending incidents are not yet judged."""
        decided = self.met + self.missed
        return round(self.met / decided, 4) if decided else None


def compliance(group: str, facts: Iterable[Facts], targets: Mapping[str, Target], *,
               now: datetime) -> list[Compliance]:
    return compliance_of(group, (verdicts(f, targets, now=now) for f in facts))


def compliance_of(group: str, judged: Iterable[Mapping[str, Verdict]]) -> list[Compliance]:
    """`compliance` from verdicts already made (one `verdicts` per incident)."""
    counts = {m: {v: 0 for v in Verdict} for m in MEASURES}
    for one in judged:
        for m, v in one.items():
            counts[m][v] += 1
    return [Compliance(group, m, counts[m][Verdict.MET], counts[m][Verdict.MISSED],
                       counts[m][Verdict.PENDING]) for m in MEASURES]
