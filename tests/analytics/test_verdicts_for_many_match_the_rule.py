"""`targets.judge` (verdicts for many incidents, allowances worked out once) gives each
incident the verdicts the rule written out by hand gives: met when done by the deadline,
missed when done later or not done and past it, pending when not done and not yet past it,
none for a step without a target (or a severity without targets)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.analytics import measures, targets

T0 = datetime(2026, 3, 1, tzinfo=UTC)
minutes = st.one_of(st.none(), st.integers(min_value=1, max_value=600))
offset = st.one_of(st.none(), st.integers(min_value=0, max_value=900))


def by_hand(created: datetime, done: datetime | None, allowed: int | None,
            now: datetime) -> str:
    if allowed is None:
        return "none"
    deadline = created + timedelta(minutes=allowed)
    if done is None:
        return "missed" if now > deadline else "pending"
    return "met" if done <= deadline else "missed"


@settings(max_examples=200, deadline=None)
@given(table=st.dictionaries(st.sampled_from(targets.SEVERITIES),
                             st.tuples(minutes, minutes, minutes), max_size=4),
       severity=st.sampled_from([*targets.SEVERITIES, "SEV9"]),
       ack=offset, update=offset, resolve=offset,
       now_after=st.integers(min_value=0, max_value=1000))
def test_each_verdict_is_the_rule_by_hand(table: dict[str, tuple[int | None, ...]],
                                          severity: str, ack: int | None,
                                          update: int | None, resolve: int | None,
                                          now_after: int) -> None:
    current = {sev: targets.Target(sev, *m) for sev, m in table.items()}
    at = {k: None if v is None else T0 + timedelta(minutes=v)
          for k, v in (("ack", ack), ("update", update), ("resolve", resolve))}
    f = measures.Facts(id=1, severity=severity, created_at=T0, source="monitor",
                       acknowledged_at=at["ack"], first_update_at=at["update"],
                       resolved_at=at["resolve"])
    now = T0 + timedelta(minutes=now_after)
    got = targets.judge(current, now=now)(f)
    allowed = dict(zip(targets.MEASURES, table.get(severity, (None, None, None)),
                       strict=True))
    assert {m: v.value for m, v in got.items()} == {
        m: by_hand(T0, at[m], allowed[m], now) for m in targets.MEASURES}
    assert got == targets.verdicts(f, current, now=now)
    target = current.get(severity, targets.Target(severity, None, None, None))
    assert got == {m: targets.verdict(f, target, m, now=now) for m in targets.MEASURES}
