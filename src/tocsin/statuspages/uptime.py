"""Daily uptime bars (pure): per component, the last N days' availability from check
results and outage intervals, with what readers may see of each day."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True)
class Outage:
    """An interval in which the component was down (`weight` 1) or partly down (0.5)."""

    start: datetime
    end: datetime
    weight: float
    label: str  # what readers may see: a public post's title or the status ("Partial outage")


@dataclass(frozen=True)
class Day:
    day: date
    percent: float | None  # None: no data (before the component existed)
    notes: tuple[str, ...]

    @property
    def level(self) -> str:
        if self.percent is None:
            return "nodata"
        if self.percent >= 99.95:
            return "up"
        return "partial" if self.percent >= 95 else "down"


def days(*, end: date, count: int, since: date, outages: Sequence[Outage],
         checks: Mapping[date, tuple[int, int]]) -> list[Day]:
    """`count` days ending with `end` (oldest first). A day's percentage is the share of
    good check results that day when there are any (`checks`: day -> (total, ok)),
    otherwise 100% less the weighted outage time; days before `since` have no data."""
    out = []
    for back in range(count - 1, -1, -1):
        d = end - timedelta(days=back)
        if d < since:
            out.append(Day(d, None, ()))
            continue
        start = datetime.combine(d, time(0), tzinfo=UTC)
        stop = start + timedelta(days=1)
        lost, notes = 0.0, []
        for o in outages:
            overlap = (min(o.end, stop) - max(o.start, start)).total_seconds()
            if overlap > 0:
                lost += overlap * o.weight
                notes.append(f"{o.label} ({round(overlap / 60)} min)")
        total, ok = checks.get(d, (0, 0))
        percent = 100.0 * ok / total if total else max(0.0, 100.0 - 100.0 * lost / 86400)
        out.append(Day(d, round(percent, 2), tuple(dict.fromkeys(notes))))
    return out


def overall(bars: Sequence[Day]) -> float | None:
    known = [b.percent for b in bars if b.percent is not None]
    return round(sum(known) / len(known), 3) if known else None
