"""The checklist rule (respond/checklists.py) over many templates and severity paths: a
template is added at most once, only when it applies, and every template that applies to
the final severity was added by the time the incident got there by raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tocsin.respond.checklists import RANKS, Facts, Template, applies, to_add

SEVS = sorted(RANKS)
templates = st.lists(st.builds(
    Template, id=st.integers(1, 10**6), severity=st.sampled_from([None, *SEVS]),
    service_id=st.sampled_from([None, 1, 2]), category_system=st.sampled_from([None, "network"]),
    items=st.just(("x",))), max_size=8, unique_by=lambda t: t.id)


@given(templates, st.lists(st.sampled_from(SEVS), min_size=1, max_size=6),
       st.frozensets(st.sampled_from([1, 2, 3])), st.sampled_from([None, "network", "database"]))
def test_each_template_added_once_and_only_when_it_applies(
        ts: list[Template], path: list[str], services: frozenset[int],
        category: str | None) -> None:
    added: list[int] = []
    before: Facts | None = None
    for sev in path:
        now = Facts(sev, services, category)
        if before is not None and RANKS[sev] >= RANKS[before.severity]:
            before = now  # not a raise: the hook adds nothing
            continue
        new = to_add(ts, now=now, before=before, already=added)
        assert all(applies(t, now) for t in new)
        added += [t.id for t in new]
        before = now
    assert len(added) == len(set(added))
    highest = min(path, key=RANKS.__getitem__)
    reached = Facts(highest, services, category)
    assert {t.id for t in ts if applies(t, reached)} <= set(added)
