"""The storm rule (chatops/storm.py), for any arrivals: at most `threshold` incidents a
minute are shown on their own, an incident is grouped only when the minute before it already
holds `threshold` arrivals, and people's declarations are never grouped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.chatops.storm import WINDOW, grouped, open_storm

START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def decide(offsets: list[int], by_person: list[bool], threshold: int) -> list[bool]:
    """Each arrival in time order, decided from the arrivals before it."""
    times = [START + timedelta(milliseconds=ms) for ms in offsets]
    return [grouped(times[:i], t, threshold=threshold, by_person=by_person[i])
            for i, t in enumerate(times)]


arrivals = st.lists(st.integers(0, 300_000), min_size=0, max_size=120).map(sorted)


@settings(max_examples=300, deadline=None)
@given(offsets=arrivals, threshold=st.integers(1, 25), people=st.lists(st.booleans(),
                                                                        min_size=120,
                                                                        max_size=120))
def test_at_most_threshold_shown_on_their_own_in_any_minute_unless_people_declared(
        offsets: list[int], threshold: int, people: list[bool]) -> None:
    by_person = people[:len(offsets)]
    decisions = decide(offsets, by_person, threshold)
    times = [START + timedelta(milliseconds=ms) for ms in offsets]
    for start in times:
        inside = [j for j, t in enumerate(times) if start <= t < start + WINDOW]
        own_by_monitor = [j for j in inside if not decisions[j] and not by_person[j]]
        assert len(own_by_monitor) <= threshold
    for i, t in enumerate(times):
        before = sum(1 for u in times[:i] if t - WINDOW < u <= t)
        assert decisions[i] == (before >= threshold and not by_person[i])


@given(offsets=arrivals, threshold=st.integers(1, 25))
def test_arrivals_slower_than_the_threshold_are_never_grouped(offsets: list[int],
                                                              threshold: int) -> None:
    spaced = [n * (60_000 // threshold + 1) for n in range(len(offsets))]
    assert not any(decide(spaced, [False] * len(spaced), threshold))


def test_a_threshold_of_zero_turns_grouping_off() -> None:
    assert not any(decide([0] * 50, [False] * 50, 0))


def test_a_storm_message_takes_new_incidents_until_a_quiet_minute() -> None:
    assert open_storm(START, START + timedelta(seconds=59))
    assert not open_storm(START, START + WINDOW)
    assert not open_storm(None, START)
