"""Laying shifts out on a week or month calendar: a pure function of shifts, period, zone.

Each week is a row of 7 local days; a shift becomes a bar positioned by the share of the
week's real elapsed time before it (so a 23-hour DST day costs nothing special).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

VIEWS = ("week", "month")


@dataclass(frozen=True)
class Bar:
    user_id: int
    start: datetime
    end: datetime
    left: float  # percent of the week row
    width: float
    source: str
    clipped_start: bool
    clipped_end: bool


@dataclass
class Week:
    start: datetime  # aware, local midnight on Monday
    end: datetime
    days: list[date]
    lanes: dict[str, list[Bar]] = field(default_factory=dict)


@dataclass(frozen=True)
class Period:
    view: str
    first_day: date  # first day shown (a Monday)
    days: int
    start: datetime  # aware UTC
    end: datetime
    previous: date
    next: date
    anchor: date  # the day asked for; switching views keeps it in view


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def period(view: str, anchor: date, zone: str) -> Period:
    """The week (Monday to Sunday) holding `anchor`, or the whole weeks covering its month."""
    tz = ZoneInfo(zone)
    if view == "month":
        first_of_month = anchor.replace(day=1)
        next_month = (first_of_month + timedelta(days=32)).replace(day=1)
        first = first_of_month - timedelta(days=first_of_month.weekday())
        last = next_month + timedelta(days=(7 - next_month.weekday()) % 7)
        previous = (first_of_month - timedelta(days=1)).replace(day=1)
        following = next_month
    else:
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=7)
        previous, following = first - timedelta(days=7), last
    return Period(view=view, first_day=first, days=(last - first).days,
                  start=_midnight(first, tz).astimezone(UTC),
                  end=_midnight(last, tz).astimezone(UTC), previous=previous, next=following,
                  anchor=anchor)


def layout(p: Period, zone: str, lanes: dict[str, list[tuple[int, datetime, datetime, str]]]
           ) -> list[Week]:
    """Weeks of `p`, each with every lane's bars cut to that week."""
    tz = ZoneInfo(zone)
    weeks = []
    for offset in range(0, p.days, 7):
        first = p.first_day + timedelta(days=offset)
        start = _midnight(first, tz).astimezone(UTC)
        end = _midnight(first + timedelta(days=7), tz).astimezone(UTC)
        span = (end - start).total_seconds()
        week = Week(start=start, end=end, days=[first + timedelta(days=d) for d in range(7)])
        for name, shifts in lanes.items():
            bars = []
            for user_id, s_start, s_end, source in shifts:
                a, b = max(s_start, start), min(s_end, end)
                if a >= b:
                    continue
                bars.append(Bar(user_id=user_id, start=s_start, end=s_end,
                                left=round((a - start).total_seconds() / span * 100, 3),
                                width=round((b - a).total_seconds() / span * 100, 3),
                                source=source, clipped_start=s_start < start,
                                clipped_end=s_end > end))
            week.lanes[name] = bars
        weeks.append(week)
    return weeks
