"""The numbers each incident's facts carry for fast grouping (Facts.created_us, tta_us, ...,
figures) are exactly what the datetime arithmetic gives, to the microsecond: a figure or a
verdict read from them is the one the definitions give, even at a deadline's last
microsecond and for times years apart."""

from __future__ import annotations

import itertools
import statistics
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.analytics import measures, targets

T0 = datetime(2026, 3, 1, tzinfo=UTC)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))
after = st.one_of(st.none(), st.integers(min_value=0, max_value=10 * 365 * 86400 * 10**6))


@settings(max_examples=300, deadline=None)
@given(created=moments, ack=after, update=after, resolve=after,
       impact=st.one_of(st.none(), st.integers(min_value=1, max_value=86400 * 10**6)))
def test_derived_numbers_equal_the_datetime_arithmetic(
        created: datetime, ack: int | None, update: int | None, resolve: int | None,
        impact: int | None) -> None:
    def at(us: int | None) -> datetime | None:
        return None if us is None else created + timedelta(microseconds=us)
    f = measures.Facts(id=1, severity="SEV2", created_at=created, source="monitor",
                       impact_started_at=None if impact is None
                       else created - timedelta(microseconds=impact),
                       acknowledged_at=at(ack), first_update_at=at(update),
                       resolved_at=at(resolve))
    assert f.created_us == (created - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(
        microseconds=1)
    assert (f.tta_us, f.tfu_us, f.ttr_us) == (ack, update, resolve)
    assert f.figures[:3] == (measures.ttd(f), measures.tta(f), measures.ttr(f))


@settings(max_examples=300, deadline=None)
@given(minutes=st.integers(min_value=1, max_value=60 * 24 * 60),
       done=st.one_of(st.none(), st.integers(min_value=-2, max_value=2)),
       now=st.integers(min_value=-2, max_value=2))
def test_a_verdict_at_the_deadline_is_decided_to_the_microsecond(
        minutes: int, done: int | None, now: int) -> None:
    """Done or judged a microsecond either side of the deadline, as the rule by hand says."""
    deadline = T0 + timedelta(minutes=minutes)
    done_at = None if done is None else deadline + timedelta(microseconds=done)
    judged_at = deadline + timedelta(microseconds=now)
    f = measures.Facts(id=1, severity="SEV1", created_at=T0, source="monitor",
                       acknowledged_at=done_at)
    got = targets.verdict(f, targets.Target("SEV1", minutes, None, None), "ack",
                          now=judged_at)
    if done_at is None:
        want = "missed" if judged_at > deadline else "pending"
    else:
        want = "met" if done_at <= deadline else "missed"
    assert got.value == want
    tallied = targets.tally("all", [f], {"SEV1": targets.Target("SEV1", minutes, None, None)},
                            now=judged_at)
    ack = tallied.compliance[0]
    assert (ack.met, ack.missed, ack.pending) == (
        int(want == "met"), int(want == "missed"), int(want == "pending"))
    assert [steps for _, steps in tallied.late] == ([("ack",)] if want == "missed" else [])


@settings(max_examples=100, deadline=None)
@given(offsets=st.lists(st.integers(min_value=0, max_value=400 * 86400 * 10**6), max_size=40),
       acks=st.lists(st.integers(min_value=0, max_value=7 * 86400 * 10**6), max_size=40))
def test_a_summary_of_microsecond_times_is_the_one_by_hand(offsets: list[int],
                                                           acks: list[int]) -> None:
    facts = [measures.Facts(
        id=i, severity="SEV3", created_at=T0 + timedelta(microseconds=o), source="monitor",
        acknowledged_at=T0 + timedelta(microseconds=o + acks[i]) if i < len(acks) else None)
        for i, o in enumerate(offsets)]
    s = measures.summarise("all", facts)
    tta = sorted((f.acknowledged_at - f.created_at).total_seconds() for f in facts
                 if f.acknowledged_at is not None)
    starts = sorted(f.created_at for f in facts)
    gaps = sorted((b - a).total_seconds() for a, b in itertools.pairwise(starts))
    for spread, xs in ((s.mtta, tta), (s.mtbf, gaps)):
        if not xs:
            assert spread == measures.Spread(0, None, None, None)
            continue
        assert spread.n == len(xs)
        assert spread.mean == round(statistics.fmean(xs), 3)
        assert spread.median == round(statistics.median(xs), 3)
        assert spread.p90 == round(measures.percentile(xs, 0.9), 3)
    assert s.unacknowledged == len(facts) - len(tta)
