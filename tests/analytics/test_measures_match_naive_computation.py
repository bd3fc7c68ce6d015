"""The metrics agree with a second, deliberately naive computation over generated histories:
time zones, incidents spanning periods, reopened incidents and missing acknowledgements."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.analytics import measures as m

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Kiritimati"]
START = datetime(2026, 1, 1, tzinfo=UTC)

# One incident's history: creation offset, then steps (kind, minutes after the previous step).
step = st.tuples(st.sampled_from(["ack", "note", "resolve", "reopen", "escalate",
                                  "recurrence", "investigate"]),
                 st.integers(min_value=0, max_value=3000))
history = st.fixed_dictionaries({
    "created": st.integers(min_value=0, max_value=365 * 24 * 60),
    "severity": st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4"]),
    "source": st.sampled_from(["monitor", "internal", "customer"]),
    "impact_before": st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
    "steps": st.lists(step, max_size=8),
})


def events_of(h: dict[str, Any]) -> tuple[datetime, list[m.Event]]:
    created = START + timedelta(minutes=h["created"])
    at, out = created, []
    status = "triggered"
    for kind, minutes in h["steps"]:
        at = at + timedelta(minutes=minutes)
        if kind == "ack" and status == "triggered":
            out.append(m.Event(at, "status_changed", {"from": status, "to": "acknowledged"}))
            status = "acknowledged"
        elif kind == "investigate" and status in ("triggered", "acknowledged"):
            out.append(m.Event(at, "status_changed", {"from": status, "to": "investigating"}))
            status = "investigating"
        elif kind == "note":
            out.append(m.Event(at, "note"))
        elif kind == "resolve" and status != "resolved":
            out.append(m.Event(at, "status_changed", {"from": status, "to": "resolved"}))
            out.append(m.Event(at, "resolved"))
            status = "resolved"
        elif kind == "reopen" and status == "resolved":
            out.append(m.Event(at, "status_changed", {"from": status, "to": "triggered"}))
            out.append(m.Event(at, "reopened", {"to": "triggered"}))
            status = "triggered"
        elif kind == "escalate":
            out.append(m.Event(at, "escalated"))
        elif kind == "recurrence":
            out.append(m.Event(at, "recurrence"))
    return created, out


def naive(h: dict[str, Any]) -> dict[str, Any]:
    """The same measures walked by hand, in a different way: the last event decides whether
    the incident is resolved, scanning backwards."""
    created, events = events_of(h)
    acks = [e.at for e in events if e.kind == "status_changed"
            and e.data["to"] in ("acknowledged", "investigating")]
    updates = [e.at for e in events if e.kind == "note" or (
        e.kind == "status_changed" and e.data["to"] != "acknowledged")]
    resolved = None
    for e in reversed(events):
        if e.kind == "reopened":
            break
        if e.kind == "resolved":
            resolved = e.at
            break
    impact = h["impact_before"]
    return {
        "tta": (min(acks) - created).total_seconds() if acks else None,
        "tfu": (min(updates) - created).total_seconds() if updates else None,
        "ttr": (resolved - created).total_seconds() if resolved else None,
        "ttd": impact * 60.0 if impact else None,
        "recurred": any(e.kind in ("reopened", "recurrence") for e in events),
        "escalated": any(e.kind == "escalated" for e in events),
    }


def facts(i: int, h: dict[str, Any]) -> m.Facts:
    created, events = events_of(h)
    impact = (created - timedelta(minutes=h["impact_before"])
              if h["impact_before"] is not None else None)
    return m.facts_of(id=i, severity=h["severity"], created_at=created, source=h["source"],
                      events=events, impact_started_at=impact)


def naive_quantiles(xs: list[float]) -> tuple[float, float, float] | None:
    if not xs:
        return None
    s = sorted(xs)
    n = len(s)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    # Nearest rank by counting: the first value with at least 90% at or below it.
    p90 = next(v for v in s if sum(1 for w in s if w <= v) * 10 >= 9 * n)
    return round(sum(s) / n, 3), round(median, 3), round(p90, 3)


def naive_period(at: datetime, period: str, zone: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    if period == "month":
        return f"{local.year}-{local.month:02d}"
    if period == "quarter":
        return f"{local.year}-Q{(local.month + 2) // 3}"
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


@settings(max_examples=150, deadline=None)
@given(histories=st.lists(history, max_size=25))
def test_each_incident_reduces_as_by_hand(histories: list[dict[str, Any]]) -> None:
    for i, h in enumerate(histories):
        f, want = facts(i, h), naive(h)
        assert m.tta(f) == want["tta"]
        assert m.seconds(f.created_at, f.first_update_at) == want["tfu"]
        assert m.ttr(f) == want["ttr"]
        assert m.ttd(f) == want["ttd"]
        assert f.recurred == want["recurred"] and f.escalated == want["escalated"]


@settings(max_examples=100, deadline=None)
@given(histories=st.lists(history, max_size=30), zone=st.sampled_from(ZONES),
       period=st.sampled_from(m.PERIODS),
       dimension=st.sampled_from(["severity", "period", "all"]))
def test_grouped_figures_match_naive(histories: list[dict[str, Any]], zone: str, period: str,
                                     dimension: str) -> None:
    all_facts = [facts(i, h) for i, h in enumerate(histories)]
    got = {s.group: s for s in m.summaries(all_facts, m.keys_by(dimension, period=period,
                                                                zone=zone))}
    groups: dict[str, list[int]] = {}
    for i, h in enumerate(histories):
        created = START + timedelta(minutes=h["created"])
        key = {"severity": h["severity"], "all": "all",
               "period": naive_period(created, period, zone)}[dimension]
        groups.setdefault(key, []).append(i)
    assert set(got) == set(groups)
    for key, members in groups.items():
        s, ns = got[key], [naive(histories[i]) for i in members]
        assert s.incidents == len(members)
        for name, spread in (("tta", s.mtta), ("ttr", s.mttr), ("ttd", s.mttd)):
            xs = [n[name] for n in ns if n[name] is not None]
            q = naive_quantiles(xs)
            assert (spread.mean, spread.median, spread.p90) == (q or (None, None, None))
            assert spread.n == len(xs)
        assert s.unacknowledged == sum(1 for n in ns if n["tta"] is None)
        assert s.unresolved == sum(1 for n in ns if n["ttr"] is None)
        customer = sum(1 for i in members if histories[i]["source"] == "customer")
        assert s.customer_share == round(customer / len(members), 4)
        starts = sorted(histories[i]["created"] for i in members)
        gaps = [60.0 * (b - a) for a, b in itertools.pairwise(starts)]
        assert (s.mtbf.mean, s.mtbf.median, s.mtbf.p90) == (
            naive_quantiles(gaps) or (None, None, None))


def test_an_incident_spanning_two_periods_counts_in_the_one_it_began_in() -> None:
    created = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 April in Berlin (CEST)
    f = m.facts_of(id=1, severity="SEV2", created_at=created, source="monitor",
                   events=[m.Event(created + timedelta(days=3), "resolved")])
    assert m.keys_by("period", period="month", zone="Europe/Berlin")(f) == ["2026-04"]
    assert m.keys_by("period", period="month", zone="UTC")(f) == ["2026-03"]
    assert m.ttr(f) == 3 * 86400


@settings(max_examples=100, deadline=None)
@given(histories=st.lists(history, max_size=30), zone=st.sampled_from(ZONES),
       period=st.sampled_from(m.PERIODS),
       dimension=st.sampled_from(["severity", "period", "all"]))
def test_grouping_many_at_once_is_grouping_each(histories: list[dict[str, Any]], zone: str,
                                                period: str, dimension: str) -> None:
    """`Keys.groups` (periods: worked out once, then bisected) puts each incident where its
    own `keys(f)` says, each group in the order the incidents came in."""
    in_any_order = [facts(i, h) for i, h in enumerate(histories)]
    keys = m.keys_by(dimension, period=period, zone=zone)
    # As given, and in order of creation (as windows are read): periods are then slices.
    for all_facts in (in_any_order, sorted(in_any_order, key=lambda f: f.created_at)):
        one_by_one: dict[str, list[int]] = {}
        for f in all_facts:
            for k in m.keys_by(dimension, period=period, zone=zone)(f):
                one_by_one.setdefault(k, []).append(f.id)
        assert {k: [f.id for f in v] for k, v in keys.groups(all_facts).items()} == one_by_one


@settings(max_examples=50, deadline=None)
@given(zone=st.sampled_from(ZONES), period=st.sampled_from(m.PERIODS),
       months=st.integers(min_value=1, max_value=14))
def test_incidents_on_a_period_boundary_fall_in_the_period_it_starts(
        zone: str, period: str, months: int) -> None:
    """An incident created at the very start of a local period is in that period, and one
    created a microsecond before it in the one before, whether the incidents come in order
    of creation (periods are slices) or not."""
    start = m.period_start(START + timedelta(days=30 * months), period, zone)
    at = [start - timedelta(microseconds=1), start, start + timedelta(microseconds=1)]
    in_order = [m.Facts(id=i, severity="SEV3", created_at=t.astimezone(UTC), source="monitor")
                for i, t in enumerate(at)]
    before = m.period_label(m.period_start(at[0], period, zone), period)
    this = m.period_label(start, period)
    keys = m.keys_by("period", period=period, zone=zone)
    for given_facts in (in_order, in_order[::-1]):
        got = {k: sorted(f.id for f in v) for k, v in keys.groups(given_facts).items()}
        assert got == {before: [0], this: [1, 2]}


@settings(max_examples=100, deadline=None)
@given(memberships=st.lists(st.lists(st.integers(min_value=1, max_value=5), max_size=3),
                            max_size=30),
       dimension=st.sampled_from(["service", "team"]))
def test_grouping_by_service_or_team_at_once_is_grouping_each(
        memberships: list[list[int]], dimension: str) -> None:
    """By service or team, many at once gives each group the incidents `keys(f)` puts in it
    (an incident of two services in both; of none in 'none'; ids sharing a name, or named
    'none', in one group)."""
    names = {1: "api", 2: "web", 3: "api", 4: "none"}  # 5 has no name: '#5'
    all_facts = [m.Facts(id=i, severity="SEV3", created_at=START, source="monitor",
                         service_ids=tuple(ids), team_ids=tuple(ids))
                 for i, ids in enumerate(memberships)]
    keys = m.keys_by(dimension, names=names)
    one_by_one: dict[str, list[int]] = {}
    for f in all_facts:
        for k in keys(f):
            one_by_one.setdefault(k, []).append(f.id)
    got = {k: sorted(f.id for f in v) for k, v in keys.groups(all_facts).items()}
    assert got == {k: sorted(v) for k, v in one_by_one.items()}
