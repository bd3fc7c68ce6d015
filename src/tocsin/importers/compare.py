"""The post-import check: who is on call, hour by hour, in the source and in Tocsin. Pure:
both sides come in as (start, end, person) periods; each hour is sampled at its start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

Period = tuple[datetime, datetime, str]


@dataclass(frozen=True)
class Difference:
    schedule: str
    hour: datetime
    source: tuple[str, ...]
    tocsin: tuple[str, ...]

    def line(self) -> str:
        return (f"{self.schedule} {self.hour:%Y-%m-%d %H:%M}Z  source: "
                f"{', '.join(self.source) or 'nobody'}  tocsin: "
                f"{', '.join(self.tocsin) or 'nobody'}")


def hours(start: datetime, days: int) -> list[datetime]:
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(hours=1)
    return [first + timedelta(hours=h) for h in range(days * 24)]


def who(periods: Sequence[Period], at: datetime) -> tuple[str, ...]:
    return tuple(sorted({person for s, e, person in periods if s <= at < e}))


def differences(schedule: str, instants: Sequence[datetime], source: Sequence[Period],
                tocsin: Sequence[Period]) -> list[Difference]:
    out = []
    for at in instants:
        a, b = who(source, at), who(tocsin, at)
        if a != b:
            out.append(Difference(schedule, at, a, b))
    return out
