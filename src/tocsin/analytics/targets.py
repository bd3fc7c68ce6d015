"""Response targets per severity (DOMAIN §3) and each incident's verdict against them."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
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
    allowed = None if minutes is None else timedelta(minutes=minutes)
    return _judged(f.created_at, _done_at(f, measure), allowed, now)


def _judged(created_at: datetime, done: datetime | None, allowed: timedelta | None,
            now: datetime) -> Verdict:
    """THE rule: done by creation + allowed time (met), done later or not done and already
    past it (missed), not done and not yet past it (pending); no allowance: no target."""
    if allowed is None:
        return Verdict.NONE
    deadline = created_at + allowed
    if done is None:
        return Verdict.MISSED if now > deadline else Verdict.PENDING
    return Verdict.MET if done <= deadline else Verdict.MISSED


def judge(targets: Mapping[str, Target], *, now: datetime
          ) -> Callable[[Facts], dict[str, Verdict]]:
    """`verdicts` for many incidents: each severity's allowances worked out once."""
    allowances = {sev: tuple(None if (m := t.minutes(measure)) is None else timedelta(minutes=m)
                             for measure in MEASURES) for sev, t in targets.items()}
    no_target = (None, None, None)

    def of(f: Facts) -> dict[str, Verdict]:
        ack, update, resolve = allowances.get(f.severity, no_target)
        return {"ack": _judged(f.created_at, f.acknowledged_at, ack, now),
                "update": _judged(f.created_at, f.first_update_at, update, now),
                "resolve": _judged(f.created_at, f.resolved_at, resolve, now)}
    return of


def verdicts(f: Facts, targets: Mapping[str, Target], *, now: datetime) -> dict[str, Verdict]:
    return judge(targets, now=now)(f)


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
    judged = judge(targets, now=now)
    return compliance_of(group, (judged(f) for f in facts))


def compliance_of(group: str, judged: Iterable[Mapping[str, Verdict]]) -> list[Compliance]:
    """`compliance` from verdicts already made (one `verdicts` per incident)."""
    counts = {m: {v: 0 for v in Verdict} for m in MEASURES}
    for one in judged:
        for m, v in one.items():
            counts[m][v] += 1
    return [Compliance(group, m, counts[m][Verdict.MET], counts[m][Verdict.MISSED],
                       counts[m][Verdict.PENDING]) for m in MEASURES]
