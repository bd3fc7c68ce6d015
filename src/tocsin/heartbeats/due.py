"""When the next ping is expected, and when silence becomes "late". Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter


class ScheduleError(ValueError):
    """The period, cron expression or time zone is not usable; the message says why."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone '{name}' (use an IANA name like "
                            "'Europe/Paris')") from None


def validate_cron(expression: str, time_zone: str) -> None:
    """Reject expressions croniter cannot parse and those that never fire (e.g. 30 February)."""
    if not croniter.is_valid(expression):
        raise ScheduleError(f"'{expression}' is not a cron expression (five fields, e.g. "
                            "'0 3 * * *')")
    start = datetime(2026, 1, 1, tzinfo=zone(time_zone))
    try:
        croniter(expression, start, max_years_between_matches=8).get_next(datetime)
    except Exception:
        raise ScheduleError(f"cron expression '{expression}' never fires") from None


def next_expected(after: datetime, *, period_seconds: int | None, cron: str | None,
                  time_zone: str) -> datetime:
    """The next time a ping is expected after a ping at `after` (aware UTC in, aware UTC out).

    Cron times are computed in the heartbeat's time zone so "0 3 * * *" means 03:00 local
    across DST changes; croniter handles the skipped and repeated hours.
    """
    if period_seconds is not None:
        return after + timedelta(seconds=period_seconds)
    if cron is None:
        raise ScheduleError("a heartbeat needs a period or a cron expression")
    local = after.astimezone(zone(time_zone))
    nxt: datetime = croniter(cron, local).get_next(datetime)
    return nxt.astimezone(UTC)


def deadline_after_ping(at: datetime, *, period_seconds: int | None, cron: str | None,
                        time_zone: str, grace_seconds: int) -> datetime:
    """After a successful ping at `at`: late if nothing arrives by this time."""
    return next_expected(at, period_seconds=period_seconds, cron=cron,
                         time_zone=time_zone) + timedelta(seconds=grace_seconds)


def deadline_after_start(at: datetime, *, grace_seconds: int) -> datetime:
    """After a /start ping: the run must report success or failure within the grace time."""
    return at + timedelta(seconds=grace_seconds)


def is_late(due_at: datetime | None, now: datetime) -> bool:
    return due_at is not None and now >= due_at
