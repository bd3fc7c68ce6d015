"""Properties of on-call resolution that must hold for any schedule (hypothesis)."""

import itertools
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.schedules.oncall import (
    Layer,
    Override,
    Schedule,
    Unit,
    Window,
    final_shifts,
    layer_shifts,
    on_call_at,
)

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata",
         "America/Santiago", "Pacific/Chatham"]
BASE = datetime(2025, 1, 1, tzinfo=UTC)

zones = st.sampled_from(ZONES)
instants = st.integers(0, 2 * 365 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))
layers = st.builds(
    Layer,
    name=st.just("l"),
    participants=st.lists(st.integers(1, 9), min_size=1, max_size=5).map(tuple),
    unit=st.sampled_from(list(Unit)),
    length=st.integers(1, 4),
    start=st.integers(0, 365 * 24).map(lambda h: datetime(2024, 6, 1) + timedelta(hours=h)),
)
windows = st.builds(
    Window,
    days=st.sets(st.integers(0, 6), min_size=1).map(lambda s: tuple(sorted(s))),
    start=st.integers(0, 23).map(lambda h: time(h)),
    end=st.integers(0, 23).map(lambda h: time(h)),
)


@settings(max_examples=80, deadline=None)
@given(layer=layers, tz=zones, start=instants, hours=st.integers(1, 24 * 21))
def test_every_instant_of_an_unrestricted_layer_has_exactly_one_participant(
        layer: Layer, tz: str, start: datetime, hours: int) -> None:
    from zoneinfo import ZoneInfo

    # Before the layer starts nobody is on it; measure from whichever is later.
    start = max(start, layer.start.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC))
    end = start + timedelta(hours=hours)
    shifts = layer_shifts(layer, tz, start, end)
    # The shifts tile the range exactly: no gap, no overlap, each non-empty.
    assert shifts[0].start == start and shifts[-1].end == end
    for a, b in itertools.pairwise(shifts):
        assert a.end == b.start
    assert all(s.start < s.end for s in shifts)


@settings(max_examples=80, deadline=None)
@given(layer=layers, tz=zones, at=instants)
def test_on_call_at_agrees_with_the_shift_list(layer: Layer, tz: str, at: datetime) -> None:
    sched = Schedule(tz, (layer,))
    shifts = final_shifts(sched, at - timedelta(days=30), at + timedelta(days=30)).shifts
    owner = [s.user_id for s in shifts if s.start <= at < s.end]
    assert owner == ([] if on_call_at(sched, at) is None else [on_call_at(sched, at)])


@settings(max_examples=80, deadline=None)
@given(layer=layers, tz=zones, start=instants, offset=st.integers(0, 24 * 60),
       minutes=st.integers(1, 3 * 24 * 60), who=st.integers(100, 200))
def test_an_override_covers_exactly_its_span(layer: Layer, tz: str, start: datetime,
                                             offset: int, minutes: int, who: int) -> None:
    o_start = start + timedelta(minutes=offset)
    override = Override(who, o_start, o_start + timedelta(minutes=minutes))
    sched = Schedule(tz, (layer,), (override,))
    result = final_shifts(sched, start, start + timedelta(days=4))
    mine = [s for s in result.shifts if s.user_id == who]
    assert [(s.start, s.end) for s in mine] == [
        (override.start, min(override.end, start + timedelta(days=4)))]
    assert all(s.source == "override" for s in mine)


@settings(max_examples=60, deadline=None)
@given(layer=layers, window=windows, tz=zones, start=instants)
def test_restricted_shifts_lie_inside_the_layer_and_its_windows(
        layer: Layer, window: Window, tz: str, start: datetime) -> None:
    from zoneinfo import ZoneInfo

    end = start + timedelta(days=10)
    plain = layer_shifts(layer, tz, start, end)
    restricted = layer_shifts(Layer(layer.name, layer.participants, layer.unit, layer.length,
                                    layer.start, (window,)), tz, start, end)
    zi = ZoneInfo(tz)
    for sh in restricted:
        # Same person as the unrestricted rotation at that instant.
        assert any(p.start <= sh.start and sh.end <= p.end and p.user_id == sh.user_id
                   for p in plain)
        mid = sh.start + (sh.end - sh.start) / 2
        local = mid.astimezone(zi)
        t = local.time()
        if window.end > window.start:
            assert local.weekday() in window.days and window.start <= t < window.end
        elif window.end < window.start:
            assert ((local.weekday() in window.days and t >= window.start)
                    or ((local.weekday() - 1) % 7 in window.days and t < window.end))


@settings(max_examples=60, deadline=None)
@given(low=layers, high=layers, window=windows, tz=zones, start=instants)
def test_final_schedule_has_no_overlap_and_gaps_fill_the_rest(
        low: Layer, high: Layer, window: Window, tz: str, start: datetime) -> None:
    high = Layer("h", high.participants, high.unit, high.length, high.start, (window,))
    end = start + timedelta(days=9)
    result = final_shifts(Schedule(tz, (low, high)), start, end)
    pieces = sorted([(s.start, s.end) for s in result.shifts]
                    + [(g.start, g.end) for g in result.gaps])
    covered = pieces
    assert covered[0][0] == start and covered[-1][1] == end
    for a, b in itertools.pairwise(covered):
        assert a[1] == b[0]
