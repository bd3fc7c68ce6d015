"""Check operations: create, change, list, claim the due ones, and show their history."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, Text, bindparam, delete, func, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from tocsin.alerts.detection import build_event, raise_alert
from tocsin.alerts.normalized import EventAction
from tocsin.catalog import service as catalog
from tocsin.checks.models import (
    SERVER_LOCATION,
    Check,
    CheckKind,
    CheckLocationState,
    CheckResult,
    CheckStatus,
    Probe,
    ProbeStatus,
)
from tocsin.checks.schemas import (
    CONFIG_MODELS,
    CheckCreate,
    CheckDetail,
    CheckOut,
    CheckUpdate,
    LocationStatus,
    RunScheduled,
)
from tocsin.checks.secrets import public_config
from tocsin.db.lookup import get_or_404
from tocsin.engine import timers
from tocsin.engine.models import Timer, TimerStatus
from tocsin.errors import Conflict, Invalid
from tocsin.settings import Settings

log = logging.getLogger("tocsin.checks")
# A pending "run now" for a check's probe locations; it lapses (does nothing) when due.
TIMER_RUN_NOW = "checks.run_now"


def validate_config(kind: CheckKind, config: dict[str, Any]) -> dict[str, Any]:
    """The kind's settings with defaults filled in; Invalid naming every bad field."""
    try:
        model = CONFIG_MODELS[kind].model_validate(config)
    except ValidationError as exc:
        problems = "; ".join(
            f"config.{'.'.join(map(str, e['loc'])) or kind.value}: "
            f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
        raise Invalid(problems) from None
    return model.model_dump(mode="json")


def _check_values(settings: Settings, interval: int, timeout: float, locations: list[str],
                  confirm_locations: int | None) -> None:
    floor = settings.check_interval_floor_seconds
    if interval < floor:
        raise Invalid(f"interval_seconds: {interval} is below the floor of {floor} seconds")
    if timeout >= interval:
        raise Invalid(f"timeout_seconds ({timeout:g}) must be shorter than interval_seconds "
                      f"({interval})")
    if len(set(locations)) != len(locations):
        raise Invalid("locations: each location may appear once")
    if confirm_locations is not None and confirm_locations > len(locations):
        raise Invalid(f"confirm_locations: {confirm_locations} is more than the "
                      f"{len(locations)} location(s) listed")


def _name_free(session: Session, name: str, exclude_id: int | None = None) -> None:
    query = select(Check.id).where(Check.name == name)
    if exclude_id is not None:
        query = query.where(Check.id != exclude_id)
    if session.scalars(query).first() is not None:
        raise Conflict(f"a check named '{name}' already exists")


def first_due(now: datetime, interval: int) -> datetime:
    """Spread new checks over their interval so a batch created together never fires together."""
    return now + timedelta(seconds=random.uniform(0, interval))


def create_check(session: Session, *, data: CheckCreate, now: datetime,
                 settings: Settings) -> Check:
    catalog.get_service(session, data.service_id)
    config = validate_config(data.kind, data.config)
    _check_values(settings, data.interval_seconds, data.timeout_seconds, data.locations,
                  data.confirm_locations)
    _name_free(session, data.name)
    check = Check(name=data.name, kind=data.kind.value, service_id=data.service_id,
                  interval_seconds=data.interval_seconds, timeout_seconds=data.timeout_seconds,
                  config=config, locations=list(data.locations),
                  on_server=SERVER_LOCATION in data.locations,
                  confirm_failures=data.confirm_failures,
                  confirm_locations=data.confirm_locations, enabled=data.enabled,
                  status=(CheckStatus.UNKNOWN if data.enabled else CheckStatus.PAUSED).value,
                  next_due_at=first_due(now, data.interval_seconds), created_at=now)
    session.add(check)
    session.flush()
    return check


def update_check(session: Session, *, check: Check, data: CheckUpdate, now: datetime,
                 settings: Settings) -> Check:
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        _name_free(session, changes["name"], exclude_id=check.id)
    if changes.get("service_id") is not None:
        catalog.get_service(session, changes["service_id"])
    if changes.get("config") is not None:
        changes["config"] = validate_config(CheckKind(check.kind), changes["config"])
    interval = changes.get("interval_seconds") or check.interval_seconds
    timeout = changes.get("timeout_seconds") or check.timeout_seconds
    locations = changes.get("locations") or check.locations
    k = changes.get("confirm_locations", check.confirm_locations)
    _check_values(settings, interval, timeout, locations, k)
    for name, value in changes.items():
        if value is None and name != "confirm_locations":
            continue
        setattr(check, name, value)
    check.on_server = SERVER_LOCATION in check.locations
    if "enabled" in changes and changes["enabled"] is not None:
        if not check.enabled:
            _resolve_if_down(session, check, "check paused", now=now, settings=settings)
        check.status = (CheckStatus.UNKNOWN if check.enabled else CheckStatus.PAUSED).value
        check.status_changed_at = now
        session.execute(delete(CheckLocationState).where(CheckLocationState.check_id == check.id))
    if "interval_seconds" in changes or "enabled" in changes:
        check.next_due_at = first_due(now, check.interval_seconds)
    return check


def get_check(session: Session, check_id: int) -> Check:
    return get_or_404(session, Check, check_id, "check")


def _resolve_if_down(session: Session, check: Check, why: str, *, now: datetime,
                     settings: Settings) -> None:
    """A down check that is paused or deleted will never recover by itself: resolve its alert
    now rather than leave it firing forever."""
    if check.status != CheckStatus.DOWN.value:
        return
    raise_alert(session, build_event(
        action=EventAction.RESOLVE, source=f"check:{check.id}", dedup_key=f"check-{check.id}",
        summary=f"{check.name}: {why}", service_id=check.service_id, now=now,
        labels={"check": check.name, "kind": check.kind}), now=now, settings=settings)


def delete_check(session: Session, check: Check, *, now: datetime, settings: Settings) -> None:
    _resolve_if_down(session, check, "check deleted", now=now, settings=settings)
    session.delete(check)


def list_checks(session: Session, *, after_id: int | None, limit: int,
                status: str | None = None, service_id: int | None = None) -> list[Check]:
    query = select(Check).order_by(Check.id).limit(limit)
    if after_id is not None:
        query = query.where(Check.id > after_id)
    if status is not None:
        query = query.where(Check.status == status)
    if service_id is not None:
        query = query.where(Check.service_id == service_id)
    return list(session.scalars(query))


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Check.status, func.count()).group_by(Check.status)).all()
    return {status: int(n) for status, n in rows}


def to_out(check: Check, *, reveal: bool = True) -> CheckOut:
    """`reveal=False` hides passwords and header values (for readers who are not admins)."""
    return CheckOut(
        id=check.id, name=check.name, kind=CheckKind(check.kind), service_id=check.service_id,
        interval_seconds=check.interval_seconds, timeout_seconds=check.timeout_seconds,
        config=check.config if reveal else public_config(check.config),
        locations=check.locations, confirm_failures=check.confirm_failures,
        confirm_locations=check.confirm_locations, enabled=check.enabled,
        status=CheckStatus(check.status), status_changed_at=check.status_changed_at,
        status_reason=check.status_reason, last_checked_at=check.last_checked_at,
        last_latency_ms=check.last_latency_ms, created_at=check.created_at)


def offline_probes(session: Session) -> set[str]:
    return set(session.scalars(select(Probe.name).where(
        Probe.status == ProbeStatus.OFFLINE.value)))


def to_detail(session: Session, check: Check, *, reveal: bool = True) -> CheckDetail:
    states = session.scalars(select(CheckLocationState).where(
        CheckLocationState.check_id == check.id).order_by(CheckLocationState.location))
    offline = offline_probes(session)
    per_location = [LocationStatus(location=s.location, ok=s.ok, consecutive=s.consecutive,
                                   last_at=s.last_at, latency_ms=s.latency_ms, reason=s.reason,
                                   live=s.location not in offline) for s in states]
    return CheckDetail(**to_out(check, reveal=reveal).model_dump(), per_location=per_location)


def latest_results(session: Session, check_id: int, *, limit: int) -> list[CheckResult]:
    return list(session.scalars(select(CheckResult).where(CheckResult.check_id == check_id)
                                .order_by(CheckResult.at.desc(), CheckResult.id.desc())
                                .limit(limit)))


@dataclass(frozen=True)
class Claimed:
    """A check claimed for one run: everything the runner needs, detached from the session."""

    id: int
    kind: CheckKind
    # The settings as stored JSON text, not decoded: a runner that already parsed them
    # compares the text and skips both decoding and validation (see CheckRunner).
    config_json: str
    timeout: float
    due_at: datetime


def next_due(due_at: datetime, interval: int, now: datetime) -> datetime:
    """Keep each check's phase (no drift); when far behind, restart from now with a jitter."""
    following = due_at + timedelta(seconds=interval)
    if following > now:
        return following
    return now + timedelta(seconds=random.uniform(0, interval * 0.1))


def claim_due(session: Session, *, now: datetime, limit: int) -> list[Claimed]:
    """Claim up to `limit` due server-location checks in the caller's transaction.

    Claiming moves `next_due_at` one interval on, with a conditional update (only where it
    still holds the value we read), all in one executemany statement. The rows cannot
    change under us: PostgreSQL locks them (`FOR UPDATE SKIP LOCKED`, so concurrent runners
    take disjoint sets) and SQLite's write transaction (BEGIN IMMEDIATE) excludes other
    writers. No timer row per check: 10,000 checks are 10,000 index entries that move,
    not 10,000 timers created and deleted every interval.
    """
    query = (select(Check.id, Check.kind, sql_cast(Check.config, Text), Check.timeout_seconds,
                    Check.interval_seconds, Check.next_due_at)
             .where(Check.on_server.is_(True), Check.enabled.is_(True), Check.next_due_at <= now)
             .order_by(Check.next_due_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return []
    moves = [{"cid": cid, "old": due, "new": next_due(due, interval, now)}
             for cid, _k, _c, _t, interval, due in rows]
    table = cast(Table, Check.__table__)
    moved = session.connection().execute(
        update(table).where(table.c.id == bindparam("cid"),
                            table.c.next_due_at == bindparam("old"))
        .values(next_due_at=bindparam("new")), moves)
    if moved.rowcount not in (-1, len(rows)):
        # Cannot happen while the rows are locked (PostgreSQL) or the database is (SQLite);
        # if it ever does, running a check twice is harmless, so say so and carry on.
        log.warning("claimed %d checks but moved %d", len(rows), moved.rowcount)
    return [Claimed(cid, CheckKind(kind), config, timeout, due)
            for cid, kind, config, timeout, _i, due in rows]


def next_due_time(session: Session) -> datetime | None:
    return session.scalars(select(func.min(Check.next_due_at)).where(
        Check.on_server.is_(True), Check.enabled.is_(True))).first()


# ---- run now -------------------------------------------------------------------------------

def _run_now_key(check_id: int) -> str:
    return f"check:{check_id}:run-now"


def request_run(session: Session, *, check: Check, now: datetime,
                settings: Settings) -> RunScheduled:
    """Make a check due now at every location it runs from.

    The server location: `next_due_at` becomes now, and the runner (which looks for due
    checks every fraction of a second) claims it like any other due run. Probe locations
    pull their assignments every few seconds, so the request is a durable timer row they
    read then (see `run_requests`); it lapses after `probe_offline_seconds`, by which time
    a probe that has not pulled counts as offline anyway. Asking again replaces it.
    """
    if not check.enabled:
        raise Conflict(f"check '{check.name}' is paused; resume it to run it")
    probes = [loc for loc in check.locations if loc != SERVER_LOCATION]
    if check.on_server:
        check.next_due_at = now
    expires_at = None
    if probes:
        expires_at = now + timedelta(seconds=settings.probe_offline_seconds)
        timers.schedule(session, kind=TIMER_RUN_NOW, due_at=expires_at, now=now,
                        key=_run_now_key(check.id),
                        payload={"check_id": check.id, "requested_at": now.isoformat(),
                                 "locations": probes})
    return RunScheduled(check_id=check.id, requested_at=now, server=check.on_server,
                        probes=probes, expires_at=expires_at)


def run_requests(session: Session, location: str) -> dict[int, datetime]:
    """Check id -> when a run was asked for, for the pending requests naming `location`."""
    rows = session.scalars(select(Timer.payload).where(
        Timer.status == TimerStatus.PENDING.value, Timer.kind == TIMER_RUN_NOW))
    return {int(p["check_id"]): datetime.fromisoformat(p["requested_at"])
            for p in rows if location in p.get("locations", ())}


def run_request_lapsed(ctx: timers.TimerContext) -> None:
    """Timer handler: a "run now" for probe locations expired. Probes that pulled meanwhile
    ran it; one that did not is offline by now. Nothing to do but let the timer be done."""
