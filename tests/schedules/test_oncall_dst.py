"""Handoffs stay on the wall clock across DST changes, in several zones (table tests)."""

from datetime import UTC, datetime, time, timedelta

import pytest

from tocsin.schedules.oncall import Layer, Schedule, Unit, Window, final_shifts, layer_shifts


def weekly(start: datetime, people: tuple[int, ...] = (1, 2, 3)) -> Layer:
    return Layer(name="primary", participants=people, unit=Unit.WEEKS, length=1, start=start)




@pytest.mark.parametrize(("zone", "monday", "hours"), [
    # Spring forward falls inside the week: the week is one hour shorter.
    ("America/New_York", datetime(2026, 3, 2, 9), 167),       # DST starts Sun 8 Mar 2026
    ("Europe/Berlin", datetime(2026, 3, 23, 9), 167),         # DST starts Sun 29 Mar 2026
    ("Europe/London", datetime(2026, 3, 23, 9), 167),
    # Fall back inside the week: one hour longer.
    ("America/New_York", datetime(2026, 10, 26, 9), 169),     # DST ends Sun 1 Nov 2026
    ("Europe/Berlin", datetime(2026, 10, 19, 9), 169),        # DST ends Sun 25 Oct 2026
    # Southern hemisphere: April is the fall-back month.
    ("Australia/Sydney", datetime(2026, 3, 30, 9), 169),      # DST ends Sun 5 Apr 2026
    ("Australia/Sydney", datetime(2026, 9, 28, 9), 167),      # DST starts Sun 4 Oct 2026
    # Lord Howe moves by 30 minutes.
    ("Australia/Lord_Howe", datetime(2026, 3, 30, 9), 168.5),
    # No DST at all.
    ("Asia/Kolkata", datetime(2026, 3, 2, 9), 168),
    ("UTC", datetime(2026, 3, 2, 9), 168),
])
def test_weekly_handoff_keeps_wall_clock(zone: str, monday: datetime, hours: float) -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    layer = weekly(monday - timedelta(weeks=4))
    start = monday.replace(tzinfo=tz).astimezone(UTC)
    end = (monday + timedelta(weeks=3)).replace(tzinfo=tz).astimezone(UTC)
    shifts = layer_shifts(layer, zone, start, end)
    assert len(shifts) == 3
    first = shifts[0]
    assert (first.end - first.start) == timedelta(hours=hours)
    for sh in shifts:
        local = sh.start.astimezone(tz)
        assert (local.weekday(), local.time()) == (0, time(9, 0)), local
    # Rotation order continues across the change: 4 weeks before was person 1.
    assert [s.user_id for s in shifts] == [2, 3, 1]


def test_daily_handoff_inside_the_spring_gap_is_well_defined() -> None:
    # 02:30 does not exist on 8 March 2026 in New York; the handoff lands at 03:30 EDT.
    layer = Layer("p", (1, 2), Unit.DAYS, 1, datetime(2026, 3, 1, 2, 30))
    start = datetime(2026, 3, 7, 12, tzinfo=UTC)
    shifts = layer_shifts(layer, "America/New_York", start, start + timedelta(days=3))
    ends = [s.end for s in shifts]
    assert ends == sorted(ends) and all(s.start < s.end for s in shifts)
    assert datetime(2026, 3, 8, 7, 30, tzinfo=UTC) in ends  # 02:30 EST == 03:30 EDT


def test_daily_handoff_at_a_repeated_time_happens_at_its_first_occurrence() -> None:
    # 01:30 happens twice on 1 November 2026 in New York (EDT, then EST): the first counts.
    layer = Layer("p", (1, 2), Unit.DAYS, 1, datetime(2026, 10, 25, 1, 30))
    start = datetime(2026, 10, 31, 12, tzinfo=UTC)
    shifts = layer_shifts(layer, "America/New_York", start, start + timedelta(days=3))
    ends = [s.end for s in shifts]
    assert datetime(2026, 11, 1, 5, 30, tzinfo=UTC) in ends  # 01:30 EDT
    assert datetime(2026, 11, 1, 6, 30, tzinfo=UTC) not in ends  # not the second 01:30


def test_hours_rotation_counts_elapsed_hours_across_dst() -> None:
    layer = Layer("p", (1, 2), Unit.HOURS, 12, datetime(2026, 3, 7, 8))
    start = datetime(2026, 3, 7, 13, tzinfo=UTC)
    shifts = layer_shifts(layer, "America/New_York", start, start + timedelta(days=2))
    for sh in shifts[1:-1]:
        assert sh.end - sh.start == timedelta(hours=12)


def test_business_hours_restriction_follows_local_time_across_dst() -> None:
    window = Window(days=(0, 1, 2, 3, 4), start=time(9), end=time(17))
    layer = Layer("bh", (7,), Unit.WEEKS, 1, datetime(2026, 1, 5, 9), (window,))
    sched = Schedule("Europe/Berlin", (layer,))
    start = datetime(2026, 3, 23, tzinfo=UTC)
    result = final_shifts(sched, start, start + timedelta(weeks=2))
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Berlin")
    assert len(result.shifts) == 10
    for sh in result.shifts:
        assert sh.start.astimezone(tz).time() == time(9)
        assert sh.end.astimezone(tz).time() == time(17)
    assert result.gaps, "nights and weekends are uncovered and must be reported as gaps"


def test_follow_the_sun_two_layers_cover_the_day() -> None:
    day = Window(days=tuple(range(7)), start=time(8), end=time(20))
    night = Window(days=tuple(range(7)), start=time(20), end=time(8))
    emea = Layer("emea", (1, 2), Unit.WEEKS, 1, datetime(2026, 1, 5, 8), (day,))
    apac = Layer("apac", (3, 4), Unit.WEEKS, 1, datetime(2026, 1, 5, 8), (night,))
    sched = Schedule("Europe/London", (emea, apac))
    start = datetime(2026, 3, 20, tzinfo=UTC)
    result = final_shifts(sched, start, start + timedelta(weeks=2))
    assert result.gaps == []
    assert {s.source for s in result.shifts} == {"layer:emea", "layer:apac"}
