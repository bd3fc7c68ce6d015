"""Who is on call: a pure function of (schedule definition, time range).

Rotations are laid out in the schedule's time zone. Shifts counted in days or weeks hand
off at the same *wall-clock* time every time (09:00 stays 09:00 across a DST change, so that
shift is 23 or 25 hours long); shifts counted in hours are exact elapsed hours. Restriction
windows are wall-clock windows too. Higher layers win over lower ones wherever they have
someone; overrides win over every layer. All inputs and outputs are aware UTC datetimes
except `Layer.start`, which is a naive wall-clock time in the schedule's zone.
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Unit(enum.StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


@dataclass(frozen=True)
class Window:
    """A wall-clock window on the given weekdays (Monday = 0). `end <= start` means the
    window runs past midnight into the next day (e.g. 18:00-09:00 nights)."""

    days: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True)
class Layer:
    name: str
    participants: tuple[int, ...]
    unit: Unit
    length: int
    start: datetime  # naive, wall-clock in the schedule's zone; its time is the handoff time
    restrictions: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Override:
    user_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Schedule:
    time_zone: str
    layers: tuple[Layer, ...]  # lowest priority first
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class Shift:
    user_id: int
    start: datetime
    end: datetime
    source: str  # "layer:<name>" or "override"


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime


@dataclass
class Result:
    shifts: list[Shift]
    gaps: list[Gap] = field(default_factory=list)


class InvalidSchedule(ValueError):
    """The definition cannot be laid out; the message says why."""


def zone(name: str) -> ZoneInfo:
    try:
        if name not in _ZONES:
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(f"unknown time zone '{name}' (use an IANA name such as "
                              "'Europe/Berlin')") from None


_ZONES = frozenset(available_timezones()) | {"UTC"}


def _utc(local: datetime, tz: ZoneInfo) -> datetime:
    # fold=0, as RFC 5545 reads local times: an ambiguous wall time (clocks going back)
    # means its first occurrence; a non-existent one (clocks going forward) is read with
    # the offset before the jump, so 02:30 in a 02:00-03:00 gap is 03:30 after it. Both
    # keep boundaries strictly increasing. docs/paging.md states the rule for users.
    return local.replace(tzinfo=tz).astimezone(UTC)


def _boundary(layer: Layer, tz: ZoneInfo, k: int) -> datetime:
    if layer.unit is Unit.HOURS:
        return _utc(layer.start, tz) + timedelta(hours=layer.length * k)
    days = layer.length * (7 if layer.unit is Unit.WEEKS else 1)
    return _utc(layer.start + timedelta(days=days * k), tz)


def _index_at(layer: Layer, tz: ZoneInfo, at: datetime) -> int:
    """The rotation step k whose shift [boundary(k), boundary(k+1)) contains `at`."""
    if layer.unit is Unit.HOURS:
        span = timedelta(hours=layer.length)
        return (at - _utc(layer.start, tz)) // span
    days = layer.length * (7 if layer.unit is Unit.WEEKS else 1)
    local = at.astimezone(tz).replace(tzinfo=None)
    k = (local - layer.start) // timedelta(days=days)
    while _boundary(layer, tz, k) > at:
        k -= 1
    while _boundary(layer, tz, k + 1) <= at:
        k += 1
    return k


def _windows(layer: Layer, tz: ZoneInfo, start: datetime, end: datetime) -> list[Gap]:
    """Merged restriction windows overlapping [start, end), clipped to it."""
    first: date = start.astimezone(tz).date() - timedelta(days=1)
    last: date = end.astimezone(tz).date()
    out: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        for w in layer.restrictions:
            if day.weekday() not in w.days:
                continue
            ws = _utc(datetime.combine(day, w.start), tz)
            end_day = day + timedelta(days=1) if w.end <= w.start else day
            we = _utc(datetime.combine(end_day, w.end), tz)
            s, e = max(ws, start), min(we, end)
            if s < e:
                out.append((s, e))
        day += timedelta(days=1)
    out.sort()
    merged: list[Gap] = []
    for s, e in out:
        if merged and s <= merged[-1].end:
            merged[-1] = Gap(merged[-1].start, max(merged[-1].end, e))
        else:
            merged.append(Gap(s, e))
    return merged


def layer_shifts(layer: Layer, time_zone: str, start: datetime, end: datetime) -> list[Shift]:
    """The layer's shifts within [start, end), restrictions applied, clipped to the range."""
    check_layer(layer)
    tz = zone(time_zone)
    begin = max(start, _utc(layer.start, tz))
    if begin >= end:
        return []
    raw: list[Shift] = []
    k = _index_at(layer, tz, begin)
    source = f"layer:{layer.name}"
    while True:
        s, e = _boundary(layer, tz, k), _boundary(layer, tz, k + 1)
        if s >= end:
            break
        user = layer.participants[k % len(layer.participants)]
        raw.append(Shift(user, max(s, begin), min(e, end), source))
        k += 1
    if not layer.restrictions:
        return raw
    out: list[Shift] = []
    windows = _windows(layer, tz, begin, end)
    for sh in raw:
        for w in windows:
            s, e = max(sh.start, w.start), min(sh.end, w.end)
            if s < e:
                out.append(Shift(sh.user_id, s, e, source))
    return out


def check_layer(layer: Layer) -> None:
    if not layer.participants:
        raise InvalidSchedule(f"layer '{layer.name}' has no participants")
    if layer.length < 1:
        raise InvalidSchedule(f"layer '{layer.name}': shift length must be at least 1")
    if layer.start.tzinfo is not None:
        raise InvalidSchedule(f"layer '{layer.name}': start is a wall-clock time without zone")
    for w in layer.restrictions:
        if not w.days or any(d not in range(7) for d in w.days):
            raise InvalidSchedule(f"layer '{layer.name}': restriction days are 0 (Mon) to 6 (Sun)")
        if w.start == w.end and len(w.days) == 0:
            raise InvalidSchedule(f"layer '{layer.name}': empty restriction window")


def overlapping_overrides(overrides: Sequence[Override]) -> list[tuple[Override, Override]]:
    ordered = sorted(overrides, key=lambda o: o.start)
    return [(a, b) for a, b in itertools.pairwise(ordered) if b.start < a.end]


def _covering(shifts: list[Shift], starts: list[datetime], at: datetime) -> Shift | None:
    i = bisect.bisect_right(starts, at) - 1
    if i >= 0 and shifts[i].start <= at < shifts[i].end:
        return shifts[i]
    return None


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> Result:
    """Who is on call over [start, end): overrides, then the highest layer with someone."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidSchedule("range must be timezone-aware")
    if end <= start:
        return Result([])
    zone(schedule.time_zone)
    bad = overlapping_overrides(schedule.overrides)
    if bad:
        first, second = bad[0]
        raise InvalidSchedule(f"overrides overlap: {first.start.isoformat()} to {first.end.isoformat()} and "
                              f"{second.start.isoformat()} to {second.end.isoformat()}")
    overrides = sorted(
        (Shift(o.user_id, max(o.start, start), min(o.end, end), "override")
         for o in schedule.overrides if o.start < end and o.end > start),
        key=lambda s: s.start)
    # Highest priority first: overrides, then layers from the top down.
    sources = [overrides] + [layer_shifts(layer, schedule.time_zone, start, end)
                             for layer in reversed(schedule.layers)]
    starts = [[s.start for s in src] for src in sources]
    points = sorted({start, end, *(t for src in sources for s in src for t in (s.start, s.end))})
    shifts: list[Shift] = []
    gaps: list[Gap] = []
    for a, b in itertools.pairwise(points):
        owner = None
        for src, st in zip(sources, starts, strict=True):
            owner = _covering(src, st, a)
            if owner is not None:
                break
        if owner is None:
            if gaps and gaps[-1].end == a:
                gaps[-1] = Gap(gaps[-1].start, b)
            else:
                gaps.append(Gap(a, b))
            continue
        last = shifts[-1] if shifts else None
        if (last is not None and last.end == a and last.user_id == owner.user_id
                and last.source == owner.source):
            shifts[-1] = Shift(last.user_id, last.start, b, last.source)
        else:
            shifts.append(Shift(owner.user_id, a, b, owner.source))
    return Result(shifts, gaps)


def on_call_at(schedule: Schedule, at: datetime) -> int | None:
    """The one user on call at `at`, or None when nobody is."""
    result = final_shifts(schedule, at, at + timedelta(microseconds=1))
    return result.shifts[0].user_id if result.shifts else None


@dataclass(frozen=True)
class Handoff:
    at: datetime
    incoming: int
    outgoing: int | None
    shift_end: datetime


def next_handoff(schedule: Schedule, after: datetime,
                 horizon: timedelta = timedelta(days=35)) -> Handoff | None:
    """The first moment strictly after `after` when a different person comes on call."""
    result = final_shifts(schedule, after, after + horizon)
    previous: Shift | None = None
    for sh in result.shifts:
        adjacent = previous is not None and previous.end == sh.start
        if sh.start > after and not (adjacent and previous is not None
                                     and previous.user_id == sh.user_id):
            return Handoff(sh.start, sh.user_id,
                           previous.user_id if adjacent and previous is not None else None,
                           sh.end)
        previous = sh
    return None
