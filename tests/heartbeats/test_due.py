"""When a heartbeat is next expected: periods, cron expressions in a time zone, bad input."""

from datetime import UTC, datetime

import pytest

from tocsin.heartbeats import due


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_period_plus_grace() -> None:
    assert due.deadline_after_ping(utc(2026, 3, 1, 12), period_seconds=3600, cron=None,
                                   time_zone="UTC", grace_seconds=300) == utc(2026, 3, 1, 13, 5)


def test_cron_is_read_in_the_heartbeats_time_zone() -> None:
    # 03:00 in Paris is 02:00 UTC in winter...
    assert due.next_expected(utc(2026, 1, 10, 2, 1), period_seconds=None, cron="0 3 * * *",
                             time_zone="Europe/Paris") == utc(2026, 1, 11, 2, 0)
    # ...and 01:00 UTC in summer: the same local time across the DST change.
    assert due.next_expected(utc(2026, 3, 28, 2, 1), period_seconds=None, cron="0 3 * * *",
                             time_zone="Europe/Paris") == utc(2026, 3, 29, 1, 0)


def test_cron_in_the_skipped_hour_still_fires_that_day() -> None:
    # 02:30 does not exist in Paris on 2026-03-29; croniter moves it, it must not skip a day.
    nxt = due.next_expected(utc(2026, 3, 28, 12), period_seconds=None, cron="30 2 * * *",
                            time_zone="Europe/Paris")
    assert utc(2026, 3, 29, 0) <= nxt < utc(2026, 3, 30, 0)


def test_bad_schedules_are_rejected_with_reasons() -> None:
    with pytest.raises(due.ScheduleError, match="not a cron expression"):
        due.validate_cron("every day at 3", "UTC")
    with pytest.raises(due.ScheduleError, match="never fires"):
        due.validate_cron("0 0 30 2 *", "UTC")
    with pytest.raises(due.ScheduleError, match="unknown time zone"):
        due.validate_cron("0 3 * * *", "Mars/Olympus")


def test_start_deadline_and_lateness() -> None:
    start = utc(2026, 1, 1, 0, 0)
    assert due.deadline_after_start(start, grace_seconds=60) == utc(2026, 1, 1, 0, 1)
    assert due.is_late(utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 1))
    assert not due.is_late(None, start)
