"""On-call health counts off-hours and sleep-hours pages in each person's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.analytics import oncall_health as oh

ZONES = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Australia/Adelaide"]


def test_a_page_at_noon_utc_is_off_hours_only_for_the_person_it_wakes() -> None:
    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday: 04:00 in Los Angeles
    people = [oh.Person(1, "Lena", "America/Los_Angeles"), oh.Person(2, "Bo", "Europe/Berlin")]
    pages = [oh.PageSent(1, 10, at, "sms"), oh.PageSent(2, 10, at, "sms")]
    lena, bo = oh.health(pages, people)
    assert (lena.off_hours, lena.sleep_hours, lena.interrupted_nights) == (1, 1, 1)
    assert (bo.off_hours, bo.sleep_hours, bo.interrupted_nights) == (0, 0, 0)


def test_messages_of_one_step_are_one_page_and_three_nights_in_a_row_are_a_run() -> None:
    zone = ZoneInfo("Asia/Tokyo")
    nights = [datetime(2026, 11, d, 2, 30, tzinfo=zone) for d in (3, 4, 5, 7)]
    pages = [oh.PageSent(1, i, t.astimezone(UTC), ch) for i, t in enumerate(nights)
             for ch in ("sms", "email")]
    [h] = oh.health(pages, [oh.Person(1, "Aki", "Asia/Tokyo")])
    assert h.pages == 4 and h.interrupted_nights == 4 and h.longest_interrupted_run == 3


def test_more_than_two_pages_in_a_shift_warns() -> None:
    base = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    pages = [oh.PageSent(1, i, base + timedelta(hours=i), "push") for i in range(3)]
    [h] = oh.health(pages, [oh.Person(1, "Uma", "UTC")])
    assert h.busiest_shift == 3 and h.shifts_over_limit == 1 and h.warning
    [calm] = oh.health(pages[:2], [oh.Person(1, "Uma", "UTC")])
    assert not calm.warning


def test_fairness_is_one_for_an_even_rotation_and_low_when_one_carries_it() -> None:
    assert oh.fairness([3, 3, 3, 3]) == 1.0
    assert oh.fairness([12, 0, 0, 0]) == 0.25
    assert oh.fairness([0, 0]) is None


page = st.builds(oh.PageSent, st.integers(1, 3), st.integers(1, 5),
                 st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                              timezones=st.just(UTC)),
                 st.sampled_from(["sms", "email"]))


@settings(max_examples=150, deadline=None)
@given(pages=st.lists(page, max_size=40), zones=st.lists(st.sampled_from(ZONES), min_size=3,
                                                          max_size=3))
def test_counts_match_a_naive_walk_in_each_zone(pages: list[oh.PageSent],
                                                 zones: list[str]) -> None:
    people = [oh.Person(i + 1, f"P{i}", z) for i, z in enumerate(zones)]
    got = {h.user_id: h for h in oh.health(pages, people)}
    kept = oh.collapse(pages)
    for person in people:
        # Naive: the zone's own UTC-to-local step, then hour and weekday read off.
        mine = []
        for p in kept:
            if p.user_id == person.user_id:
                zone = ZoneInfo(person.time_zone)
                mine.append(zone.fromutc(p.at.replace(tzinfo=zone)).replace(tzinfo=None))
        off = sum(1 for t in mine if t.weekday() in (5, 6) or t.hour < 9 or t.hour >= 18)
        sleep = [t for t in mine if t.hour >= 22 or t.hour < 7]
        nights = {(t - timedelta(hours=12)).date() for t in sleep}
        h = got[person.user_id]
        assert (h.pages, h.off_hours, h.sleep_hours, h.interrupted_nights) == (
            len(mine), off, len(sleep), len(nights))


# Pages close together (so shifts fill up and nights run on), across the end of summer
# time in Europe (25 October) and in the US (1 November).
dense_page = st.builds(oh.PageSent, st.integers(1, 3), st.integers(1, 5), st.one_of(
    st.datetimes(min_value=datetime(2026, 10, 23), max_value=datetime(2026, 10, 27),
                 timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2026, 10, 30), max_value=datetime(2026, 11, 3),
                 timezones=st.just(UTC))), st.sampled_from(["sms", "email"]))


@settings(max_examples=150, deadline=None)
@given(pages=st.one_of(st.lists(page, max_size=40), st.lists(dense_page, max_size=80)),
       zones=st.lists(st.sampled_from([*ZONES, "Asia/Kolkata", "America/New_York"]),
                      min_size=3, max_size=3),
       limit=st.integers(0, 3))
def test_every_figure_and_the_heat_map_match_the_documented_definitions(
        pages: list[oh.PageSent], zones: list[str], limit: int) -> None:
    """The definitions of docs/metrics.md read off each page's local wall-clock time, one
    page at a time: shifts, the busiest shift, shifts over the limit, the longest run of
    interrupted nights, the share and the heat map included."""
    people = [oh.Person(i + 1, f"P{i}", z) for i, z in enumerate(zones)]
    got = oh.health(pages, people, per_shift_limit=limit)
    kept = oh.collapse(pages)
    total = sum(1 for p in kept if p.user_id <= len(people))
    for person, h in zip(people, got, strict=True):
        zone = ZoneInfo(person.time_zone)
        mine = [zone.fromutc(p.at.replace(tzinfo=zone)).replace(tzinfo=None)
                for p in kept if p.user_id == person.user_id]
        off = [t for t in mine if t.weekday() >= 5 or not time(9) <= t.time() < time(18)]
        sleep = [t for t in mine if t.time() >= time(22) or t.time() < time(7)]
        nights = {t.date() - timedelta(days=1) if t.time() < time(7) else t.date()
                  for t in sleep}
        shifts: dict[tuple[date, str], int] = {}
        for t in mine:
            if time(8) <= t.time() < time(20):
                key = (t.date(), "day")
            else:
                key = (t.date() - timedelta(days=1) if t.time() < time(8) else t.date(), "night")
            shifts[key] = shifts.get(key, 0) + 1
        longest = max((n for n in range(1, len(nights) + 1) if any(
            all(d + timedelta(days=k) in nights for k in range(n)) for d in nights)),
            default=0)
        assert (h.pages, h.off_hours, h.sleep_hours, h.interrupted_nights,
                h.longest_interrupted_run, h.shifts_paged, h.busiest_shift,
                h.shifts_over_limit, h.share) == (
            len(mine), len(off), len(sleep), len(nights), longest, len(shifts),
            max(shifts.values(), default=0), sum(1 for n in shifts.values() if n > limit),
            round(len(mine) / total, 4) if total else None)
    for name in zones:
        zone = ZoneInfo(name)
        grid = [[0] * 24 for _ in range(7)]
        for p in kept:
            t = zone.fromutc(p.at.replace(tzinfo=zone))
            grid[t.weekday()][t.hour] += 1
        assert oh.heat_map(pages, name) == grid
    channels: dict[str, int] = {}
    for p in pages:
        channels[p.channel.upper()] = channels.get(p.channel.upper(), 0) + 1
    assert oh.by_channel(pages, {"sms": "SMS", "email": "EMAIL"}) == dict(sorted(
        channels.items()))
