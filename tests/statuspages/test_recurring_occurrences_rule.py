"""Properties of the recurring maintenance rule (pure): the occurrences announced are
exactly the times the window suppresses alerts (`window_active`), each is announced once
however often and late the worker asks, and none lies beyond the horizon when announced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.alerts.suppress import Window, occurrences, window_active
from tocsin.statuspages.recurring import to_announce

# Zones without daylight saving, where the local clock and UTC move together: there an
# occurrence is exactly the span `window_active` says is on.
STEADY = ["UTC", "Asia/Tokyo", "Asia/Kolkata", "America/Phoenix", "Asia/Kathmandu"]
SHIFTING = ["Europe/Paris", "America/New_York", "Australia/Sydney"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)

instants = st.integers(min_value=0, max_value=400 * 24 * 60).map(
    lambda m: T0 + timedelta(minutes=m))


@st.composite
def weekly(draw: st.DrawFn, zones: list[str]) -> Window:
    return Window(
        id=1, name="w",
        weekdays=sorted(draw(st.sets(st.integers(0, 6), min_size=1))),
        start_time=f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 15, 30, 59])):02d}",
        duration_minutes=draw(st.integers(1, 3 * 24 * 60)),
        time_zone=draw(st.sampled_from(zones)))


@settings(max_examples=300, deadline=None)
@given(window=weekly(STEADY), at=instants)
def test_an_occurrence_is_exactly_when_the_window_is_active(window: Window,
                                                            at: datetime) -> None:
    assert window.duration_minutes is not None
    back = timedelta(minutes=window.duration_minutes) + timedelta(days=2)
    spans = occurrences(window, start=at - back, end=at + timedelta(seconds=1))
    assert window_active(window, at) == any(b <= at < e for b, e in spans)


@settings(max_examples=200, deadline=None)
@given(window=weekly(STEADY + SHIFTING), start=instants,
       days=st.integers(min_value=1, max_value=30))
def test_occurrences_start_at_the_local_time_on_chosen_days(window: Window, start: datetime,
                                                            days: int) -> None:
    end = start + timedelta(days=days)
    spans = occurrences(window, start=start, end=end)
    zone = ZoneInfo(window.time_zone)
    assert spans == sorted(spans)
    assert all(start <= b < end and e > b for b, e in spans)
    for b, _ in spans:
        local = b.astimezone(zone)
        assert local.weekday() in window.weekdays
        # A start inside a spring-forward gap moves by the gap; otherwise it is exact.
        if local.utcoffset() == (local - timedelta(hours=3)).utcoffset():
            assert local.strftime("%H:%M") == window.start_time
    # Every chosen day that lies wholly inside the span has its occurrence.
    whole_days = {(start.astimezone(zone) + timedelta(days=n)).date()
                  for n in range(1, days - 1)}
    expected = {d for d in whole_days if d.weekday() in window.weekdays}
    assert expected <= {b.astimezone(zone).date() for b, _ in spans}


@settings(max_examples=200, deadline=None)
@given(window=weekly(STEADY + SHIFTING), start=instants,
       horizon_days=st.integers(min_value=1, max_value=21),
       steps=st.lists(st.integers(min_value=1, max_value=3 * 24 * 60), min_size=1,
                      max_size=30))
def test_each_occurrence_announced_once_within_the_horizon(
        window: Window, start: datetime, horizon_days: int, steps: list[int]) -> None:
    """The worker asks at irregular times (less than the horizon apart); every
    occurrence that begins after the series started and before the last ask's horizon is
    announced exactly once, before it begins and no earlier than the horizon allows."""
    horizon = timedelta(days=horizon_days)
    steps = [min(s, horizon_days * 24 * 60 - 1) for s in steps]
    through, now, announced = start, start, []
    for step in [0, *steps]:
        now += timedelta(minutes=step)
        due = to_announce(window, announced_through=through, now=now, horizon=horizon)
        for b, _ in due:
            assert now < b < now + horizon
        announced += [b for b, _ in due]
        if due:
            through = due[-1][0]
    assert len(announced) == len(set(announced)) and announced == sorted(announced)
    # None missed: asks less than a horizon apart put each occurrence in range of an ask
    # made before it began.
    expected = [b for b, _ in occurrences(window, start=start, end=now + horizon) if b > start]
    assert sorted(set(expected) - set(announced)) == []
