"""Incident metrics from the event log (DOMAIN §10), as pure functions of plain values.

Each incident's log is first reduced to its `Facts` (when it was acknowledged, first updated,
finally resolved, ...), then facts are grouped and summarised. The exact start and end event
of every measure is written in docs/metrics.md; this module is that page in code.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# Status moves that mean "a person is on it" (triggered -> any working status).
ACK_STATUSES = frozenset({"acknowledged", "investigating", "identified", "monitoring"})
# Timeline entries a person writes to tell others where things stand (a first update).
UPDATE_KINDS = frozenset({"note", "hypothesis", "action", "decision", "status_changed",
                          "severity_changed"})
PERIODS = ("week", "month", "quarter")


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """One incident, reduced. Times are aware UTC; None where the event never happened."""

    id: int
    severity: str
    created_at: datetime
    source: str  # detection source: monitor / internal / customer
    service_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()
    impact_started_at: datetime | None = None
    acknowledged_at: datetime | None = None
    first_update_at: datetime | None = None
    resolved_at: datetime | None = None  # the last resolution, if it was not undone
    reopened: int = 0
    recurred: bool = False
    escalated: bool = False
    visible: bool = True  # to the viewer the figures are for (visibility.py)


def facts_of(*, id: int, severity: str, created_at: datetime, source: str,
             events: Iterable[Event], service_ids: Sequence[int] = (),
             team_ids: Sequence[int] = (), impact_started_at: datetime | None = None,
             visible: bool = True) -> Facts:
    """Reduce one incident's log, given in log order (by event id: entries of one instant
    keep the order they were written in): `fold` over each entry in turn, from `start`."""
    f = start(id=id, severity=severity, created_at=created_at, source=source,
              service_ids=service_ids, team_ids=team_ids,
              impact_started_at=impact_started_at, visible=visible)
    for e in events:
        f = fold(f, e)
    return f


def start(*, id: int, severity: str, created_at: datetime, source: str,
          service_ids: Sequence[int] = (), team_ids: Sequence[int] = (),
          impact_started_at: datetime | None = None, visible: bool = True) -> Facts:
    """An incident's facts before any log entry is read."""
    # A start of impact the reporter gave; the same instant as detection means "not given".
    impact = impact_started_at if impact_started_at and impact_started_at < created_at else None
    return Facts(id=id, severity=severity, created_at=created_at, source=source,
                 service_ids=tuple(service_ids), team_ids=tuple(team_ids),
                 impact_started_at=impact, visible=visible)


def fold(f: Facts, e: Event) -> Facts:
    """`f` with one more log entry read: the one step both the full reduction (`facts_of`)
    and the stored per-incident summary (analytics.summary, kept current entry by entry)
    take, so the two cannot drift apart."""
    if e.at < f.created_at:
        return f
    changes: dict[str, Any] = {}
    to = e.data.get("to")
    if e.kind == "status_changed" and f.acknowledged_at is None and to in ACK_STATUSES:
        changes["acknowledged_at"] = e.at
    if f.first_update_at is None and e.kind in UPDATE_KINDS and not (
            e.kind == "status_changed" and to == "acknowledged"):
        changes["first_update_at"] = e.at
    if e.kind == "resolved":
        changes["resolved_at"] = e.at
    elif e.kind == "reopened":
        changes.update(reopened=f.reopened + 1, resolved_at=None, recurred=True)
    elif e.kind == "recurrence":
        changes["recurred"] = True
    elif e.kind == "escalated":
        changes["escalated"] = True
    return dataclasses.replace(f, **changes) if changes else f


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def tta(f: Facts) -> float | None:
    return seconds(f.created_at, f.acknowledged_at)


def ttr(f: Facts) -> float | None:
    return seconds(f.created_at, f.resolved_at)


def ttd(f: Facts) -> float | None:
    return seconds(f.impact_started_at, f.created_at)


@dataclass(frozen=True)
class Spread:
    """Mean, median and p90 (nearest rank) of some seconds; None when there are none."""

    n: int
    mean: float | None
    median: float | None
    p90: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "median": self.median, "p90": self.p90}


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q of the values at or
    below it."""
    return _nearest_rank(sorted(values), q)


def _nearest_rank(ordered: Sequence[float], q: float) -> float:
    return ordered[max(math.ceil(q * len(ordered)), 1) - 1]


def spread(values: Iterable[float | None]) -> Spread:
    xs = sorted(v for v in values if v is not None)  # sorted once for median and p90
    if not xs:
        return Spread(0, None, None, None)
    return Spread(len(xs), round(statistics.fmean(xs), 3), round(statistics.median(xs), 3),
                  round(_nearest_rank(xs, 0.9), 3))


@dataclass(frozen=True)
class Summary:
    group: str
    incidents: int
    mttd: Spread
    mtta: Spread
    mttr: Spread
    mtbf: Spread
    unacknowledged: int
    unresolved: int
    escalation_rate: float | None
    recurrence_rate: float | None
    customer_share: float | None
    monitor_share: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "incidents": self.incidents,
                "mttd": self.mttd.as_dict(), "mtta": self.mtta.as_dict(),
                "mttr": self.mttr.as_dict(), "mtbf": self.mtbf.as_dict(),
                "unacknowledged": self.unacknowledged, "unresolved": self.unresolved,
                "escalation_rate": self.escalation_rate,
                "recurrence_rate": self.recurrence_rate,
                "customer_share": self.customer_share, "monitor_share": self.monitor_share}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def between_failures(facts: Sequence[Facts]) -> list[float]:
    """MTBF's samples: from each incident's creation to the next one's, in time order."""
    starts = sorted(f.created_at for f in facts)
    return [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]


def summarise(group: str, facts: Sequence[Facts]) -> Summary:
    """The group's figures. One pass over the facts (the page summarises thousands of
    incidents several ways), taking each measure's samples as `ttd`, `tta` and `ttr`
    define them (tests/analytics compares with a naive computation)."""
    n = len(facts)
    detect: list[float] = []
    ack: list[float] = []
    resolve: list[float] = []
    unacknowledged = unresolved = escalated = recurred = customer = monitor = 0
    for f in facts:
        created = f.created_at
        if f.impact_started_at is not None:
            detect.append((created - f.impact_started_at).total_seconds())
        if f.acknowledged_at is None:
            unacknowledged += 1
        else:
            ack.append((f.acknowledged_at - created).total_seconds())
        if f.resolved_at is None:
            unresolved += 1
        else:
            resolve.append((f.resolved_at - created).total_seconds())
        escalated += f.escalated
        recurred += f.recurred
        customer += f.source == "customer"
        monitor += f.source == "monitor"
    return Summary(
        group=group, incidents=n, mttd=spread(detect), mtta=spread(ack), mttr=spread(resolve),
        mtbf=spread(between_failures(facts)), unacknowledged=unacknowledged,
        unresolved=unresolved, escalation_rate=_share(escalated, n),
        recurrence_rate=_share(recurred, n), customer_share=_share(customer, n),
        monitor_share=_share(monitor, n))


def period_start(at: datetime, period: str, zone: str) -> datetime:
    """The local start (as an aware datetime in `zone`) of the week (Monday), month or
    quarter holding `at`."""
    local = at.astimezone(ZoneInfo(zone))
    day = local.date()
    if period == "week":
        day = day - timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    elif period == "quarter":
        day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    else:
        raise ValueError(f"unknown period {period!r}")
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))


def period_label(start: datetime, period: str) -> str:
    if period == "week":
        year, week, _ = start.date().isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


Keys = Callable[[Facts], Iterable[str]]


def period_end(start: datetime, period: str) -> datetime:
    """The local start of the period after the one starting at `start` (from period_start)."""
    if period == "week":
        day = start.date() + timedelta(days=7)
        return datetime(day.year, day.month, day.day, tzinfo=start.tzinfo)
    months = 1 if period == "month" else 3
    month = start.month - 1 + months
    return datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)


def _period_keys(period: str, zone: str) -> Keys:
    """Keys by period, remembering the periods already found (their UTC bounds, sorted), so
    a fact's period is found by bisection instead of time zone arithmetic."""
    starts: list[datetime] = []
    found: list[tuple[datetime, list[str]]] = []  # (end, [label]) beside each start

    def of(f: Facts) -> list[str]:
        at = f.created_at
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0 and at < found[i][0]:
            return found[i][1]
        local = period_start(at, period, zone)
        label = [period_label(local, period)]
        # Kept in the facts' own time zone (UTC): datetimes of one tzinfo compare field by
        # field, of two ask each for its offset (some 25 times slower, per comparison).
        start = local.astimezone(at.tzinfo)
        i = bisect.bisect_right(starts, start)
        starts.insert(i, start)
        found.insert(i, (period_end(local, period).astimezone(at.tzinfo), label))
        return label
    return of


def keys_by(dimension: str, *, period: str = "week", zone: str = "UTC",
            names: Mapping[int, str] | None = None) -> Keys:
    """How facts fall into groups. An incident of two services counts in both services'
    groups; one of no service in 'none'. Periods are by creation, in `zone`: an incident
    that spans two periods counts in the one it began in."""
    names = names or {}
    if dimension == "severity":
        return lambda f: [f.severity]
    if dimension in ("service", "team"):
        def of(f: Facts) -> list[str]:
            ids = f.service_ids if dimension == "service" else f.team_ids
            return [names.get(i, f"#{i}") for i in ids] or ["none"]
        return of
    if dimension == "period":
        return _period_keys(period, zone)
    if dimension == "all":
        return lambda f: ["all"]
    raise ValueError(f"unknown dimension {dimension!r}")


def summaries(facts: Iterable[Facts], keys: Keys) -> list[Summary]:
    groups: dict[str, list[Facts]] = defaultdict(list)
    for f in facts:
        for key in keys(f):
            groups[key].append(f)
    return [summarise(k, groups[k]) for k in sorted(groups)]
