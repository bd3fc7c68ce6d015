"""Heartbeat operations: manage them, accept pings, and notice silence."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.alerts.normalized import EventAction
from tocsin.catalog import service as catalog
from tocsin.db.lookup import get_or_404
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.heartbeats import due
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing, HeartbeatStatus, PingKind
from tocsin.heartbeats.recording import PingIn, alert, record_pings
from tocsin.heartbeats.schemas import HeartbeatCreate, HeartbeatOut, HeartbeatUpdate
from tocsin.heartbeats.state import WATCHED
from tocsin.settings import Settings


def _validate_schedule(period: int | None, cron: str | None, time_zone: str,
                       settings: Settings) -> None:
    if (period is None) == (cron is None):
        raise Invalid("give either period_seconds or cron, not both and not neither")
    try:
        due.zone(time_zone)
        if cron is not None:
            due.validate_cron(cron, time_zone)
    except due.ScheduleError as exc:
        raise Invalid(str(exc)) from None
    if period is not None and period < settings.check_interval_floor_seconds:
        raise Invalid(f"period_seconds: {period} is below the floor of "
                      f"{settings.check_interval_floor_seconds} seconds")


def _name_free(session: Session, name: str, exclude_id: int | None = None) -> None:
    query = select(Heartbeat.id).where(Heartbeat.name == name)
    if exclude_id is not None:
        query = query.where(Heartbeat.id != exclude_id)
    if session.scalars(query).first() is not None:
        raise Conflict(f"a heartbeat named '{name}' already exists")


def create_heartbeat(session: Session, *, data: HeartbeatCreate, now: datetime,
                     settings: Settings) -> Heartbeat:
    catalog.get_service(session, data.service_id)
    _validate_schedule(data.period_seconds, data.cron, data.time_zone, settings)
    _name_free(session, data.name)
    hb = Heartbeat(key=str(uuid.uuid4()), name=data.name, service_id=data.service_id,
                   period_seconds=data.period_seconds, cron=data.cron, time_zone=data.time_zone,
                   grace_seconds=data.grace_seconds, status=HeartbeatStatus.NEW.value,
                   created_at=now)
    session.add(hb)
    session.flush()
    return hb


def update_heartbeat(session: Session, *, hb: Heartbeat, data: HeartbeatUpdate, now: datetime,
                     settings: Settings) -> Heartbeat:
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name"):
        _name_free(session, changes["name"], exclude_id=hb.id)
    if changes.get("service_id") is not None:
        catalog.get_service(session, changes["service_id"])
    period = changes.get("period_seconds", hb.period_seconds)
    cron = changes.get("cron", hb.cron)
    _validate_schedule(period, cron, changes.get("time_zone") or hb.time_zone, settings)
    paused = changes.pop("paused", None)
    for name, value in changes.items():
        if value is not None or name in ("period_seconds", "cron"):
            setattr(hb, name, value)
    if paused is True:
        hb.status, hb.due_at = HeartbeatStatus.PAUSED.value, None
    elif paused is False and hb.status == HeartbeatStatus.PAUSED.value:
        hb.status, hb.due_at = HeartbeatStatus.NEW.value, None
    elif hb.status in WATCHED and hb.last_ping_at is not None:
        hb.due_at = _deadline(hb, hb.last_ping_at)
    return hb


def get_heartbeat(session: Session, heartbeat_id: int) -> Heartbeat:
    return get_or_404(session, Heartbeat, heartbeat_id, "heartbeat")


def list_heartbeats(session: Session, *, after_id: int | None, limit: int) -> list[Heartbeat]:
    query = select(Heartbeat).order_by(Heartbeat.id).limit(limit)
    if after_id is not None:
        query = query.where(Heartbeat.id > after_id)
    return list(session.scalars(query))


def delete_heartbeat(session: Session, hb: Heartbeat) -> None:
    session.delete(hb)


def recent_pings(session: Session, hb: Heartbeat, *, limit: int) -> list[HeartbeatPing]:
    return list(session.scalars(select(HeartbeatPing).where(HeartbeatPing.heartbeat_id == hb.id)
                                .order_by(HeartbeatPing.at.desc(), HeartbeatPing.id.desc())
                                .limit(limit)))


def to_out(hb: Heartbeat, settings: Settings) -> HeartbeatOut:
    return HeartbeatOut(
        id=hb.id, name=hb.name, service_id=hb.service_id,
        ping_url=f"{settings.public_url}/ping/{hb.key}", period_seconds=hb.period_seconds,
        cron=hb.cron, time_zone=hb.time_zone, grace_seconds=hb.grace_seconds,
        status=HeartbeatStatus(hb.status), due_at=hb.due_at, last_ping_at=hb.last_ping_at,
        last_start_at=hb.last_start_at, last_duration_ms=hb.last_duration_ms,
        created_at=hb.created_at)


def _deadline(hb: Heartbeat, at: datetime) -> datetime:
    return due.deadline_after_ping(at, period_seconds=hb.period_seconds, cron=hb.cron,
                                   time_zone=hb.time_zone, grace_seconds=hb.grace_seconds)


def ping(session: Session, *, key: str, kind: PingKind, exit_code: int | None, body: bytes,
         now: datetime, settings: Settings, source_ip: str | None = None) -> None:
    """Store one ping and apply it: start, success or failure. NotFound for an unknown key."""
    if not record_pings(session, [PingIn(key, kind, exit_code, body, source_ip)], now=now,
                        settings=settings)[0]:
        raise NotFound("no heartbeat with this ping URL")


def mark_late(session: Session, *, now: datetime, settings: Settings) -> int:
    """Heartbeats past their deadline become late and alert, once (conditional update)."""
    overdue = session.scalars(select(Heartbeat).where(
        Heartbeat.status.in_(WATCHED), Heartbeat.due_at <= now)).all()
    count = 0
    for hb in overdue:
        was = hb.status  # read before the update below synchronises the loaded object
        moved = session.execute(update(Heartbeat).where(
            Heartbeat.id == hb.id, Heartbeat.status == hb.status, Heartbeat.due_at == hb.due_at)
            .values(status=HeartbeatStatus.LATE.value))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(hb)
        what = "did not finish" if was == HeartbeatStatus.STARTED.value else "missed its ping"
        alert(session, hb, EventAction.TRIGGER,
              f"{hb.name} is late: {what} (due by {hb.due_at.isoformat() if hb.due_at else '?'})",
              now=now, settings=settings)
        count += 1
    return count
