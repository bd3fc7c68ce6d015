"""A drill's report: time to acknowledge, to the first update and to resolution, against
the severity's targets. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from tocsin.postmortems import timeline as tl


@dataclass(frozen=True)
class Line:
    measure: str
    took: timedelta | None
    target: timedelta | None

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.took is not None and self.took <= self.target


def build(facts: tl.Facts, events: Sequence[tl.Event]) -> list[Line]:
    targets = tl.TARGETS.get(facts.severity, {})
    return [Line(measure=name, took=took, target=targets.get(name))
            for name, took in tl.response_times(facts, events).items()]
