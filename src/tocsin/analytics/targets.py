"""Response targets per severity (DOMAIN §3) and each incident's verdict against them."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tocsin.analytics.measures import US_PER_SECOND, Facts, micros

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


def _done_after(f: Facts, measure: str) -> float | None:
    """Microseconds from creation to the step, None if not done (Facts' derived durations)."""
    if measure == "ack":
        return f.tta_us
    if measure == "update":
        return f.tfu_us
    return f.ttr_us


def _allowed_us(minutes: int | None) -> int | None:
    return None if minutes is None else minutes * 60 * US_PER_SECOND


def verdict(f: Facts, target: Target, measure: str, *, now: datetime) -> Verdict:
    return _judged(_done_after(f, measure), micros(now) - f.created_us,
                   _allowed_us(target.minutes(measure)))


def _judged(done_after: float | None, age: float, allowed: int | None) -> Verdict:
    """THE rule, in microseconds after the incident's creation (`age`: now's): done by
    creation + allowed time (met), done later or not done and already past it (missed), not
    done and not yet past it (pending); no allowance: no target. (Whole microseconds, the
    resolution of the times themselves, held exactly: each comparison is exact.)"""
    if allowed is None:
        return Verdict.NONE
    if done_after is None:
        return Verdict.MISSED if age > allowed else Verdict.PENDING
    return Verdict.MET if done_after <= allowed else Verdict.MISSED


_NO_TARGET: tuple[int | None, int | None, int | None] = (None, None, None)


def _allowances(targets: Mapping[str, Target]
                ) -> dict[str, tuple[int | None, int | None, int | None]]:
    return {sev: (_allowed_us(t.ack_minutes), _allowed_us(t.update_minutes),
                  _allowed_us(t.resolve_minutes)) for sev, t in targets.items()}


def judge(targets: Mapping[str, Target], *, now: datetime
          ) -> Callable[[Facts], dict[str, Verdict]]:
    """`verdicts` for many incidents: each severity's allowances worked out once."""
    allowances = _allowances(targets)
    now_us = micros(now)

    def of(f: Facts) -> dict[str, Verdict]:
        ack, update, resolve = allowances.get(f.severity, _NO_TARGET)
        age = now_us - f.created_us
        return {"ack": _judged(f.tta_us, age, ack), "update": _judged(f.tfu_us, age, update),
                "resolve": _judged(f.ttr_us, age, resolve)}
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


@dataclass(frozen=True)
class Tally:
    """A group's compliance, and its incidents that missed at least one step (with those
    steps, in MEASURES order)."""

    compliance: list[Compliance]
    late: list[tuple[Facts, tuple[str, ...]]]


def tally(group: str, facts: Iterable[Facts], targets: Mapping[str, Target], *,
          now: datetime) -> Tally:
    """Each incident judged once (the rule, `_judged`, per step), counted per step and
    verdict. One loop over plain ints per incident: the page judges thousands."""
    allowances = _allowances(targets)
    now_us = micros(now)
    ack_n, update_n, resolve_n = counts = [dict.fromkeys(Verdict, 0) for _ in MEASURES]
    missed = Verdict.MISSED
    late: list[tuple[Facts, tuple[str, ...]]] = []
    for f in facts:
        ack, update, resolve = allowances.get(f.severity, _NO_TARGET)
        age = now_us - f.created_us
        a = _judged(f.tta_us, age, ack)
        u = _judged(f.tfu_us, age, update)
        r = _judged(f.ttr_us, age, resolve)
        ack_n[a] += 1
        update_n[u] += 1
        resolve_n[r] += 1
        if a is missed or u is missed or r is missed:
            late.append((f, tuple(m for m, v in zip(MEASURES, (a, u, r), strict=True)
                                  if v is missed)))
    return Tally([Compliance(group, m, c[Verdict.MET], c[Verdict.MISSED], c[Verdict.PENDING])
                  for m, c in zip(MEASURES, counts, strict=True)], late)
