"""Hourly and daily rollups of raw results, and the retention that deletes old rows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from tocsin.checks.models import CheckResult, CheckRollup
from tocsin.settings import Settings

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def hour_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def day_start(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _rollup_hour(session: Session, start: datetime) -> None:
    # Recomputed from raw results (delete + insert): running it twice gives the same rows.
    session.execute(delete(CheckRollup).where(CheckRollup.period == "hour",
                                              CheckRollup.start == start))
    rows = session.execute(
        select(CheckResult.check_id, func.count(),
               func.sum(case((CheckResult.ok.is_(True), 1), else_=0)),
               func.coalesce(func.sum(CheckResult.latency_ms), 0),
               func.coalesce(func.max(CheckResult.latency_ms), 0))
        .where(CheckResult.at >= start, CheckResult.at < start + HOUR)
        .group_by(CheckResult.check_id)).all()
    if rows:
        session.execute(insert(CheckRollup), [
            {"check_id": cid, "period": "hour", "start": start, "total": int(total),
             "ok_count": int(ok), "latency_sum_ms": int(lsum), "latency_max_ms": int(lmax)}
            for cid, total, ok, lsum, lmax in rows])


def _rollup_day(session: Session, start: datetime) -> None:
    session.execute(delete(CheckRollup).where(CheckRollup.period == "day",
                                              CheckRollup.start == start))
    rows = session.execute(
        select(CheckRollup.check_id, func.sum(CheckRollup.total), func.sum(CheckRollup.ok_count),
               func.sum(CheckRollup.latency_sum_ms), func.max(CheckRollup.latency_max_ms))
        .where(CheckRollup.period == "hour", CheckRollup.start >= start,
               CheckRollup.start < start + DAY)
        .group_by(CheckRollup.check_id)).all()
    if rows:
        session.execute(insert(CheckRollup), [
            {"check_id": cid, "period": "day", "start": start, "total": int(total),
             "ok_count": int(ok), "latency_sum_ms": int(lsum), "latency_max_ms": int(lmax)}
            for cid, total, ok, lsum, lmax in rows])


def roll_up(session: Session, *, now: datetime) -> int:
    """Roll up the current and previous hour, and today and yesterday (late results land)."""
    this_hour = hour_start(now)
    for start in (this_hour - HOUR, this_hour):
        _rollup_hour(session, start)
    today = day_start(now)
    for start in (today - DAY, today):
        _rollup_day(session, start)
    return 0


def purge(session: Session, *, now: datetime, settings: Settings) -> int:
    raw = session.execute(delete(CheckResult).where(
        CheckResult.at < now - timedelta(days=settings.check_result_retention_days)))
    rolled = session.execute(delete(CheckRollup).where(
        CheckRollup.start < now - timedelta(days=settings.check_rollup_retention_days)))
    return int(raw.rowcount or 0) + int(rolled.rowcount or 0)  # type: ignore[attr-defined]


def history(session: Session, check_id: int, *, period: str,
            since: datetime) -> list[CheckRollup]:
    return list(session.scalars(select(CheckRollup).where(
        CheckRollup.check_id == check_id, CheckRollup.period == period,
        CheckRollup.start >= since).order_by(CheckRollup.start)))
