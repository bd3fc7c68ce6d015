"""Opsgenie's and PagerDuty's time restrictions become Tocsin windows covering exactly the
same minutes of the week, including spans past midnight and past Sunday night."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.importers import opsgenie_map
from tocsin.importers.plan import WEEK
from tocsin.schedules import oncall

DAYS = opsgenie_map.DAYS
MONDAY = datetime(2027, 1, 4)  # a Monday; UTC has no clock changes


def _covered(windows: tuple[oncall.Window, ...]) -> set[int]:
    """Minutes of the week Tocsin's own layer code puts on call."""
    layer = oncall.Layer(name="x", participants=(1,), unit=oncall.Unit.WEEKS, length=1,
                         start=MONDAY, restrictions=windows)
    start = MONDAY.replace(tzinfo=oncall.zone("UTC"))
    out: set[int] = set()
    for sh in oncall.layer_shifts(layer, "UTC", start, start + timedelta(days=7)):
        m = int((sh.start - start).total_seconds() // 60)
        while m < int((sh.end - start).total_seconds() // 60):
            out.add(m)
            m += 15
    return out


quarter = st.integers(0, WEEK // 15 - 1).map(lambda q: q * 15)


@settings(max_examples=60, deadline=None)
@given(start=quarter, length=st.integers(1, WEEK // 15 - 1).map(lambda q: q * 15))
def test_a_weekday_span_covers_the_same_minutes(start: int, length: int) -> None:
    end = (start + length) % WEEK
    raw = {"type": "weekday-and-time-of-day", "restrictions": [{
        "startDay": DAYS[start // 1440], "startHour": start % 1440 // 60,
        "startMin": start % 60, "endDay": DAYS[end // 1440], "endHour": end % 1440 // 60,
        "endMin": end % 60}]}
    expected = {(start + m) % WEEK for m in range(0, length, 15)}
    assert _covered(opsgenie_map.restrictions(raw)) == expected


@settings(max_examples=40, deadline=None)
@given(start=st.integers(0, 95).map(lambda q: q * 15),
       length=st.integers(1, 95).map(lambda q: q * 15))
def test_a_daily_window_covers_the_same_minutes(start: int, length: int) -> None:
    end = (start + length) % 1440
    raw = {"type": "time-of-day", "restriction": {
        "startHour": start // 60, "startMin": start % 60, "endHour": end // 60,
        "endMin": end % 60}}
    expected = {(d * 1440 + start + m) % WEEK for d in range(7) for m in range(0, length, 15)}
    assert _covered(opsgenie_map.restrictions(raw)) == expected
