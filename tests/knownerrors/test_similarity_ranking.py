"""Ranking of candidates: text, same service and labels each count; a known error's label
matchers must all hold; scores stay within 0..1 and the order is stable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tocsin.knownerrors.search import terms
from tocsin.knownerrors.similarity import Candidate, rank


def test_service_and_labels_lift_a_weaker_text_match() -> None:
    found = rank(services=frozenset({1}), labels={"alertname": "DiskFull"}, limit=3,
                 candidates=[Candidate(10, 5.0),
                             Candidate(11, 4.0, frozenset({1}), {"alertname": "DiskFull"})])
    assert [m.id for m in found] == [11, 10]
    assert found[0].reasons == ("similar text", "same service", "labels alertname=DiskFull")


def test_known_error_matchers_must_all_hold() -> None:
    labels = {"alertname": "DiskFull", "env": "prod"}
    both = Candidate(1, 0.0, matchers={"alertname": "DiskFull", "env": "prod"})
    half = Candidate(2, 0.0, matchers={"alertname": "DiskFull", "env": "staging"})
    found = rank(services=frozenset(), labels=labels, candidates=[both, half], limit=5,
                 minimum=0.1)
    assert [m.id for m in found] == [1]


def test_search_terms_are_plain_words() -> None:
    assert terms('Payment "gateway" OR timeouts: 504; the pool!') == [
        "payment", "gateway", "timeouts", "504", "pool"]


@given(st.lists(st.tuples(st.integers(1, 10**6), st.floats(0, 100), st.booleans()),
                max_size=30, unique_by=lambda t: t[0]))
def test_scores_are_bounded_and_sorted(items: list[tuple[int, float, bool]]) -> None:
    cands = [Candidate(i, s, frozenset({1}) if same else frozenset()) for i, s, same in items]
    found = rank(services=frozenset({1}), labels={}, candidates=cands, limit=50, minimum=0)
    assert all(0 <= m.score <= 1 for m in found)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
