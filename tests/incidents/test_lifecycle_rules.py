"""Pure lifecycle rules: no database, no fixtures."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.incidents import lifecycle as lc

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_forward_path_is_legal() -> None:
    path = [lc.Status.TRIGGERED, lc.Status.ACKNOWLEDGED, lc.Status.INVESTIGATING,
            lc.Status.IDENTIFIED, lc.Status.MONITORING, lc.Status.RESOLVED, lc.Status.CLOSED]
    for current, target in itertools.pairwise(path):
        lc.check_transition(current, target)


def test_illegal_move_names_the_legal_ones() -> None:
    with pytest.raises(lc.IllegalTransition) as info:
        lc.check_transition(lc.Status.RESOLVED, lc.Status.IDENTIFIED)
    assert info.value.legal == [lc.Status.CLOSED]
    assert "can move to: closed" in str(info.value)


def test_reopen_only_through_reopening() -> None:
    with pytest.raises(lc.IllegalTransition):
        lc.check_transition(lc.Status.CLOSED, lc.Status.INVESTIGATING)
    lc.check_transition(lc.Status.CLOSED, lc.Status.INVESTIGATING, reopening=True)
    with pytest.raises(lc.IllegalTransition):
        lc.check_transition(lc.Status.INVESTIGATING, lc.Status.TRIGGERED, reopening=True)


def test_no_way_back_to_triggered_while_open() -> None:
    for status in lc.OPEN_STATUSES:
        assert lc.Status.TRIGGERED not in lc.legal_next(status)


def test_close_check_lists_everything_missing() -> None:
    check = lc.close_check(status=lc.Status.RESOLVED, resolution_summary=" ",
                           impact_started_at=None, impact_ended_at=None, users_affected=None,
                           recovery_until=NOW + timedelta(minutes=5),
                           skip_recovery_watch=False, now=NOW)
    assert not check.ok
    joined = " | ".join(check.missing)
    for word in ("resolution_summary", "impact duration", "users_affected", "recovery watch"):
        assert word in joined


def test_close_check_says_what_is_missing_in_words_without_field_names() -> None:
    check = lc.close_check(status=lc.Status.MONITORING, resolution_summary=None,
                           impact_started_at=None, impact_ended_at=None, users_affected=None,
                           recovery_until=NOW + timedelta(minutes=5),
                           skip_recovery_watch=False, now=NOW)
    assert len(check.in_words) == len(check.missing) == 5
    for said in check.in_words:
        assert "_" not in said, said  # no resolution_summary, skip_recovery_watch …
        assert said[0].isupper() and said.endswith(".")
    watch = check.in_words[-1]
    assert (NOW + timedelta(minutes=5)).strftime("%H:%M UTC") in watch
    assert ".000" not in watch and "+00:00" not in watch


def test_close_check_passes_when_complete_and_watch_over() -> None:
    check = lc.close_check(status=lc.Status.RESOLVED, resolution_summary="rolled back",
                           impact_started_at=NOW - timedelta(hours=1), impact_ended_at=NOW,
                           users_affected=0, recovery_until=NOW, skip_recovery_watch=False,
                           now=NOW)
    assert check.ok, check.missing


def test_recovery_windows_follow_severity() -> None:
    minutes = {"SEV1": 120, "SEV2": 60, "SEV3": 15, "SEV4": 15}
    assert lc.recovery_window(lc.Severity.SEV1, minutes) == timedelta(hours=2)
    assert lc.recovery_window(lc.Severity.SEV2, minutes) == timedelta(hours=1)
    assert lc.recovery_window(lc.Severity.SEV4, minutes) == timedelta(minutes=15)
