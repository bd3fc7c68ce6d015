"""On-call health (DOMAIN §5, §6): pages per person and shift, off-hours and sleep-hours pages
in each person's own time zone, runs of interrupted nights, and fairness across a rotation.

A *page* is one interruption: a person's sent page messages for one incident that follow
each other within PAGE_COLLAPSE count once (email + SMS + push of one step is one wake-up).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

PAGE_COLLAPSE = timedelta(minutes=5)
WORK_START, WORK_END = time(9), time(18)  # Monday to Friday; anything else is off-hours
SLEEP_START, SLEEP_END = time(22), time(7)
DAY_SHIFT_START, NIGHT_SHIFT_START = time(8), time(20)  # two 12-hour shifts a day
PAGES_PER_SHIFT_WARNING = 2  # DOMAIN §5: target <= 2 pages per 12 h shift


class PageSent(NamedTuple):
    """A named tuple, not a dataclass: one is made per sent page message read (thousands
    per request), and a tuple is made in half the time."""

    user_id: int
    incident_id: int | None
    at: datetime  # aware UTC
    channel: str = ""


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    time_zone: str


# (at, user_id) of a PageSent, looked up in C rather than by a lambda per page
_AT_THEN_USER = itemgetter(PageSent._fields.index("at"), PageSent._fields.index("user_id"))


def collapse(pages: Iterable[PageSent]) -> list[PageSent]:
    """One page per interruption: a message within PAGE_COLLAPSE of the first message of a
    person's run for the same incident joins that run."""
    out: list[PageSent] = []
    open_runs: dict[tuple[int, int | None], datetime] = {}
    for p in sorted(pages, key=_AT_THEN_USER):
        key = (p.user_id, p.incident_id)
        first = open_runs.get(key)
        if first is not None and p.at - first <= PAGE_COLLAPSE:
            continue
        open_runs[key] = p.at
        out.append(p)
    return out



def is_off_hours(local: datetime) -> bool:
    return local.weekday() >= 5 or not (WORK_START <= local.time() < WORK_END)


def is_sleep_hours(local: datetime) -> bool:
    return local.time() >= SLEEP_START or local.time() < SLEEP_END


def night_of(local: datetime) -> date:
    """The night a sleep-hours moment belongs to, named by the evening it began (a page at
    03:00 on Tuesday interrupts Monday's night)."""
    return local.date() - timedelta(days=1) if local.time() < SLEEP_END else local.date()


def shift_of(local: datetime) -> tuple[date, str]:
    """The 12-hour local shift: ('day', 08:00-20:00) or ('night', 20:00-08:00, named by
    the evening it began)."""
    if DAY_SHIFT_START <= local.time() < NIGHT_SHIFT_START:
        return local.date(), "day"
    evening = local.date() - timedelta(days=1) if local.time() < DAY_SHIFT_START else local.date()
    return evening, "night"


def longest_run(nights: Iterable[int]) -> int:
    """The longest run of consecutive nights, each named by its day number (`toordinal`)."""
    days = sorted(set(nights))
    best = run = 0
    for i, d in enumerate(days):
        run = run + 1 if i and d - days[i - 1] == 1 else 1
        best = max(best, run)
    return best


def _hourly() -> tuple[list[bool], list[int | None], list[int]]:
    """The definitions above as tables by local hour of the week (Monday 00:00 = 0), so
    `health` looks each page up instead of calling them: every boundary is a whole hour,
    so each definition is the same for the whole of a local hour. Per hour of the week:
    off-hours; the night it interrupts, as days after the page's local date (None outside
    sleep hours); the shift, as 2 * (days after the local date) + 1 for night shifts."""
    bounds = (WORK_START, WORK_END, SLEEP_START, SLEEP_END, DAY_SHIFT_START, NIGHT_SHIFT_START)
    assert all(t == time(t.hour) for t in bounds), "the tables need whole-hour boundaries"
    off: list[bool] = []
    night: list[int | None] = []
    shift: list[int] = []
    monday = datetime(2024, 1, 1)
    for h in range(7 * 24):
        local = monday + timedelta(hours=h)
        off.append(is_off_hours(local))
        night.append((night_of(local) - local.date()).days if is_sleep_hours(local) else None)
        day, which = shift_of(local)
        shift.append(2 * (day - local.date()).days + (which == "night"))
    return off, night, shift


_OFF, _NIGHT, _SHIFT = _hourly()


@dataclass(frozen=True)
class Health:
    user_id: int
    name: str
    time_zone: str
    pages: int
    off_hours: int
    sleep_hours: int
    interrupted_nights: int
    longest_interrupted_run: int
    shifts_paged: int
    busiest_shift: int
    shifts_over_limit: int
    share: float | None  # of the rotation's pages

    @property
    def warning(self) -> bool:
        return self.shifts_over_limit > 0


def health(pages: Iterable[PageSent], people: Sequence[Person], *,
           per_shift_limit: int = PAGES_PER_SHIFT_WARNING,
           collapsed: bool = False) -> list[Health]:
    """Each person's figures, every person listed (a person never paged has zeros).
    `collapsed`: `pages` are `collapse`'s output already."""
    mine: dict[int, list[PageSent]] = defaultdict(list)
    for p in pages if collapsed else collapse(pages):
        mine[p.user_id].append(p)
    listed = {x.user_id for x in people}
    total = sum(len(v) for k, v in mine.items() if k in listed)
    out = []
    for person in people:
        zone = ZoneInfo(person.time_zone)
        off_hours = 0
        nights: list[int] = []
        shifts: dict[int, int] = defaultdict(int)  # 2 * day number (+1: night shift)
        mine_here = mine.get(person.user_id, [])
        for p in mine_here:
            local = p.at.astimezone(zone)
            day = local.toordinal()
            hour = local.weekday() * 24 + local.hour
            off_hours += _OFF[hour]
            if (night := _NIGHT[hour]) is not None:
                nights.append(day + night)
            shifts[2 * day + _SHIFT[hour]] += 1
        out.append(Health(
            user_id=person.user_id, name=person.name, time_zone=person.time_zone,
            pages=len(mine_here), off_hours=off_hours,
            sleep_hours=len(nights), interrupted_nights=len(set(nights)),
            longest_interrupted_run=longest_run(nights), shifts_paged=len(shifts),
            busiest_shift=max(shifts.values(), default=0),
            shifts_over_limit=sum(1 for n in shifts.values() if n > per_shift_limit),
            share=round(len(mine_here) / total, 4) if total else None))
    return out


def fairness(counts: Sequence[int]) -> float | None:
    """Jain's fairness index of the pages per person: 1.0 when all carry the same load,
    1/n when one person carries all of it; None for nobody or no pages."""
    if not counts or not any(counts):
        return None
    return round(sum(counts) ** 2 / (len(counts) * sum(c * c for c in counts)), 4)


def heat_map(pages: Iterable[PageSent], zone: str, *, collapsed: bool = False
             ) -> list[list[int]]:
    """Pages by hour of the week in `zone`: 7 rows (Monday first) of 24 hours (`collapsed`:
    as in `health`)."""
    counts = [0] * (7 * 24)
    tz = ZoneInfo(zone)
    for p in pages if collapsed else collapse(pages):
        local = p.at.astimezone(tz)
        counts[local.weekday() * 24 + local.hour] += 1
    return [counts[d * 24:(d + 1) * 24] for d in range(7)]


def by_channel(pages: Iterable[PageSent], names: Mapping[str, str] | None = None
               ) -> dict[str, int]:
    by_kind: dict[str, int] = defaultdict(int)
    for p in pages:
        by_kind[p.channel] += 1
    counts: dict[str, int] = defaultdict(int)
    for kind, n in by_kind.items():
        counts[(names or {}).get(kind, kind)] += n
    return dict(sorted(counts.items()))
