"""Incident metrics from the event log (DOMAIN §10), as pure functions of plain values.

Each incident's log is first reduced to its `Facts` (when it was acknowledged, first updated,
finally resolved, ...), then facts are grouped and summarised. The exact start and end event
of every measure is written in docs/metrics.md; this module is that page in code.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice, repeat
from operator import attrgetter, le, sub, truediv
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


@dataclass(frozen=True, slots=True)
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
    # Derived once, when the facts are made (and kept with them in the readers' cache,
    # queries.py), so that grouping, sorting and summing many incidents works on plain
    # numbers (`summarise`, targets.tally) instead of datetime arithmetic per incident and
    # figure: creation and the steps' durations in whole microseconds, held as floats
    # (Python sorts floats some twice as fast as large ints) whose values are whole numbers
    # below 2**53, so exact: their differences and comparisons are exact; and the measures'
    # samples in seconds (in `figures`), each as `ttd`, `tta` and `ttr` give it.
    created_us: float = field(init=False, repr=False, compare=False)
    tta_us: float | None = field(init=False, repr=False, compare=False)
    tfu_us: float | None = field(init=False, repr=False, compare=False)
    ttr_us: float | None = field(init=False, repr=False, compare=False)
    # What `summarise` reads of the incident (the samples of detection, acknowledgement and
    # resolution in seconds, creation, source, escalated, recurred), made once: a summary
    # then visits each incident once and allocates nothing per incident (the facts of a
    # window are spread over memory; reading seven fields of each, per grouping, cost four
    # times as much).
    figures: tuple[float | None, float | None, float | None, float, str, bool, bool] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        created = self.created_at
        put = object.__setattr__  # (frozen: set once, here)
        put(self, "created_us", micros(created))
        for name, at in (("tta", self.acknowledged_at), ("tfu", self.first_update_at),
                         ("ttr", self.resolved_at)):
            put(self, name + "_us", None if at is None else _exact((at - created) // _US))
        put(self, "figures", (ttd(self), tta(self), ttr(self), self.created_us, self.source,
                              self.escalated, self.recurred))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
US_PER_SECOND = 1_000_000
_EXACT = 2 ** 53  # floats hold every whole number below this exactly


def _exact(us: int) -> float:
    assert -_EXACT < us < _EXACT, "microseconds beyond a float's exact range"
    return float(us)


def micros(at: datetime) -> float:
    """An aware time as whole microseconds since the epoch (as Facts.created_us)."""
    return _exact((at - _EPOCH) // _US)


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


def _spread_of_sorted(xs: Sequence[float]) -> Spread:
    """Spread of values already in ascending order: the mean as statistics.fmean, the
    median as statistics.median (the middle value, or the mean of the middle two), p90 by
    nearest rank; each rounded to the millisecond."""
    n = len(xs)
    if not n:
        return Spread(0, None, None, None)
    half = n // 2
    median = xs[half] if n % 2 else (xs[half - 1] + xs[half]) / 2
    return Spread(n, round(statistics.fmean(xs), 3), round(median, 3),
                  round(_nearest_rank(xs, 0.9), 3))


def _present_sorted(values: Iterable[float | None]) -> list[float]:
    """The samples given (None: no sample), ascending."""
    present = [x for x in values if x is not None]
    present.sort()
    return present


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


def _gaps(created_us: Iterable[float]) -> list[float]:
    """MTBF's samples: from each incident's creation to the next one's, in time order
    (in ascending order of creation, not of the samples)."""
    starts = sorted(created_us)
    return list(map(truediv, map(sub, starts[1:], starts[:-1]), repeat(US_PER_SECOND)))


_CREATED_US = attrgetter("created_us")
_FIGURES = attrgetter("figures")


def summarise(group: str, facts: Sequence[Facts]) -> Summary:
    """The group's figures, each measure's samples as `ttd`, `tta` and `ttr` define them
    (tests/analytics compares with a naive computation). The page summarises thousands of
    incidents several ways, so each figure is one pass of a built-in over a column of the
    facts' derived samples (Facts.figures), not Python statements per incident."""
    n = len(facts)
    if not n:
        empty = Spread(0, None, None, None)
        return Summary(group, 0, empty, empty, empty, empty, 0, 0, None, None, None, None)
    detect, ack, resolve, created, source, escalated, recurred = zip(*map(_FIGURES, facts), strict=True)
    acked = _present_sorted(ack)
    resolved = _present_sorted(resolve)
    gaps = _gaps(created)
    gaps.sort()
    return Summary(
        group=group, incidents=n, mttd=_spread_of_sorted(_present_sorted(detect)),
        mtta=_spread_of_sorted(acked), mttr=_spread_of_sorted(resolved),
        mtbf=_spread_of_sorted(gaps), unacknowledged=n - len(acked),
        unresolved=n - len(resolved), escalation_rate=_share(sum(escalated), n),
        recurrence_rate=_share(sum(recurred), n),
        customer_share=_share(source.count("customer"), n),
        monitor_share=_share(source.count("monitor"), n))


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


def period_end(start: datetime, period: str) -> datetime:
    """The local start of the period after the one starting at `start` (from period_start)."""
    if period == "week":
        day = start.date() + timedelta(days=7)
        return datetime(day.year, day.month, day.day, tzinfo=start.tzinfo)
    months = 1 if period == "month" else 3
    month = start.month - 1 + months
    return datetime(start.year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)


class Keys:
    """How facts fall into groups: `keys(f)` names one incident's groups, `groups(facts)`
    sorts many at once."""

    def __init__(self, of: Callable[[Facts], list[str]],
                 one: Callable[[Facts], str] | None = None,
                 many: Callable[[Sequence[Facts]], dict[str, list[Facts]]] | None = None
                 ) -> None:
        self._of = of
        self._one = one  # when every incident is in exactly one group: that group
        self._many = many  # a faster `groups`, giving the same groups

    def __call__(self, f: Facts) -> list[str]:
        return self._of(f)

    def groups(self, facts: Iterable[Facts]) -> dict[str, list[Facts]]:
        """The incidents of each group, each group in the order the facts came in."""
        if self._many is not None:
            return self._many(facts if isinstance(facts, Sequence) else list(facts))
        out: defaultdict[str, list[Facts]] = defaultdict(list)
        one = self._one
        if one is not None:
            for f in facts:
                out[one(f)].append(f)
            return out
        for f in facts:
            for key in self._of(f):
                out[key].append(f)
        return out


def _single(one: Callable[[Facts], str]) -> Keys:
    return Keys(lambda f: [one(f)], one)


def _period_keys(period: str, zone: str) -> Keys:
    """Keys by period in `zone`: one incident's by its own time zone arithmetic; many at
    once (`many`) by working the periods out once and bisecting."""
    def of(f: Facts) -> str:
        return period_label(period_start(f.created_at, period, zone), period)

    def many(facts: Sequence[Facts]) -> dict[str, list[Facts]]:
        """Every period from the earliest incident's to the latest's, worked out once,
        then each incident's found by a bisection in C (`of` per incident costs time zone
        arithmetic each, more than the rest of a summary)."""
        out: defaultdict[str, list[Facts]] = defaultdict(list)
        if not facts:
            return out
        created = list(map(_CREATED_US, facts))
        local = period_start(facts[created.index(min(created))].created_at, period, zone)
        latest = max(created)
        starts: list[float] = []
        labels: list[str] = []
        while True:
            starts.append(micros(local))
            labels.append(period_label(local, period))
            local = period_end(local, period)
            if micros(local) > latest:
                break
        if all(map(le, created, islice(created, 1, None))):
            # In order of creation (as queries.load_facts reads a window): each period's
            # incidents are one slice, found by bisection.
            bounds = [bisect.bisect_left(created, start) for start in starts]
            bounds.append(len(created))
            for label, lo, hi in zip(labels, bounds[:-1], bounds[1:], strict=True):
                if hi > lo:
                    out[label] = list(facts[lo:hi])
            return out
        for f, i in zip(facts, map(partial(bisect.bisect_right, starts), created),
                        strict=True):
            out[labels[i - 1]].append(f)
        return out
    return Keys(lambda f: [of(f)], of, many)


_SEVERITY = attrgetter("severity")


def keys_by(dimension: str, *, period: str = "week", zone: str = "UTC",
            names: Mapping[int, str] | None = None) -> Keys:
    """How facts fall into groups. An incident of two services counts in both services'
    groups; one of no service in 'none'. Periods are by creation, in `zone`: an incident
    that spans two periods counts in the one it began in."""
    names = names or {}
    if dimension == "severity":
        return _single(_SEVERITY)
    if dimension in ("service", "team"):
        ids_of = attrgetter("service_ids" if dimension == "service" else "team_ids")

        def of(f: Facts) -> list[str]:
            return [names.get(i, f"#{i}") for i in ids_of(f)] or ["none"]

        def many(facts: Sequence[Facts]) -> dict[str, list[Facts]]:
            """Grouped by id, then named once per id: the same groups as `of` gives (in
            another order within a group when two ids share a name)."""
            by_id: defaultdict[int, list[Facts]] = defaultdict(list)
            out: defaultdict[str, list[Facts]] = defaultdict(list)
            none = out["none"]
            for f in facts:
                ids = ids_of(f)
                if not ids:
                    none.append(f)
                for i in ids:
                    by_id[i].append(f)
            if not none:
                del out["none"]
            for i, members in by_id.items():
                out[names.get(i, f"#{i}")].extend(members)
            return out
        return Keys(of, many=many)
    if dimension == "period":
        return _period_keys(period, zone)
    if dimension == "all":
        return _single(lambda f: "all")
    raise ValueError(f"unknown dimension {dimension!r}")


def summaries(facts: Iterable[Facts], keys: Keys) -> list[Summary]:
    groups = keys.groups(facts)
    return [summarise(k, groups[k]) for k in sorted(groups)]
