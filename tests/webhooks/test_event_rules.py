"""Pure rules of event webhooks: which entries are published, who gets them, retries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tocsin.webhooks.events import Facts, Filter, backoff, event_type, matches, retryable

ids = st.frozensets(st.integers(1, 5), max_size=3)
sevs = st.frozensets(st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4"]), max_size=2)
types = st.sampled_from(["incident.declared", "incident.closed", "incident.note_added"])


@given(st.builds(Filter, id=st.just(1), event_types=st.frozensets(types, max_size=2),
                 service_ids=ids, team_ids=ids, severities=sevs),
       st.builds(Facts, event_type=types, service_ids=ids, team_ids=ids,
                 severity=st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4"])))
def test_an_empty_filter_passes_all_and_a_set_one_needs_an_overlap(f: Filter,
                                                                  facts: Facts) -> None:
    expected = ((not f.event_types or facts.event_type in f.event_types)
                and (not f.service_ids or bool(f.service_ids & facts.service_ids))
                and (not f.team_ids or bool(f.team_ids & facts.team_ids))
                and (not f.severities or facts.severity in f.severities))
    assert matches(f, facts) is expected


def test_entries_map_to_event_types() -> None:
    assert event_type("created", {}) == "incident.declared"
    assert event_type("status_changed", {"to": "acknowledged"}) == "incident.acknowledged"
    assert event_type("status_changed", {"to": "identified"}) == "incident.status_changed"
    assert event_type("status_changed", {"to": "resolved"}) is None  # `resolved` says it
    assert event_type("resolved", {}) == "incident.resolved"
    assert event_type("role_handoff", {}) == "incident.role_changed"
    assert event_type("decision", {}) == "incident.note_added"
    assert event_type("page_sent", {}) is None and event_type("task_done", {}) is None


def test_retries_back_off_to_an_hour_and_only_for_temporary_answers() -> None:
    assert [backoff(n, 15).total_seconds() for n in (1, 2, 3)] == [15, 30, 60]
    assert backoff(30, 15).total_seconds() == 3600
    assert retryable(None) and retryable(500) and retryable(429) and retryable(408)
    assert not retryable(404) and not retryable(301) and not retryable(410)
