"""Security incidents: restricted from the start, and their notification clocks.

`clock_hook` reacts to incident events (wiring.py): a new incident of the security category,
or one moved into it, is made restricted and gets one clock per configured deadline, each
with a reminder timer. Reminders are timeline entries (`notification_due`), which the
incident's page shows; `record_notification` stops a clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.engine import timers
from tocsin.errors import Conflict, NotFound
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.hooks import IncidentHook
from tocsin.incidents.models import Incident
from tocsin.principal import Principal
from tocsin.security import clocks
from tocsin.security.models import SecurityClock
from tocsin.settings import Settings

TIMER_REMIND = "security.clock_reminder"


def clock_hook(settings: Settings) -> IncidentHook:
    def on_incident_event(session: Session, *, incident: Incident, kind: str,
                          data: dict[str, Any], now: datetime) -> None:
        became = (kind == lc.EventKind.CREATED.value
                  or (kind == lc.EventKind.FIELD_CHANGED.value and "category_type" in data))
        if became and lc.is_security(incident.category_type):
            start_clocks(session, incident=incident, settings=settings, now=now)

    return on_incident_event


def start_clocks(session: Session, *, incident: Incident, settings: Settings,
                 now: datetime) -> list[SecurityClock]:
    """Restrict the incident and start each configured clock not started yet."""
    incident.restricted = True
    have = set(session.scalars(select(SecurityClock.name)
                               .where(SecurityClock.incident_id == incident.id)))
    made = []
    for name, hours in settings.security_notification_clocks.items():
        if name in have:
            continue
        clock = SecurityClock(incident_id=incident.id, name=name, hours=hours, started_at=now,
                              due_at=now + timedelta(hours=hours))
        session.add(clock)
        session.flush()
        _schedule(session, clock, settings, now)
        made.append(clock)
    return made


def _schedule(session: Session, clock: SecurityClock, settings: Settings,
              now: datetime) -> None:
    at = clocks.next_reminder(due_at=clock.due_at, reminder_hours=settings.security_reminder_hours,
                              now=now)
    timers.schedule(session, kind=TIMER_REMIND, key=f"security_clock:{clock.id}", now=now,
                    due_at=at, payload={"clock_id": clock.id})


def remind(session: Session, *, clock_id: int, now: datetime, settings: Settings) -> None:
    """The timer handler: a timeline entry on the incident, then the next reminder."""
    clock = session.get(SecurityClock, clock_id)
    if clock is None or clock.notified_at is not None:
        return
    incident = session.get(Incident, clock.incident_id)
    if incident is None:
        return
    incidents.append_event(session, incident, kind=lc.EventKind.NOTIFICATION_DUE, now=now,
                           actor=None,
                           body=clocks.describe(name=clock.name, due_at=clock.due_at, now=now),
                           data={"clock_id": clock.id, "name": clock.name,
                                 "due_at": clock.due_at.isoformat()})
    _schedule(session, clock, settings, now)


def clocks_of(session: Session, incident_id: int) -> list[SecurityClock]:
    return list(session.scalars(select(SecurityClock).where(
        SecurityClock.incident_id == incident_id).order_by(SecurityClock.id)))


def record_notification(session: Session, *, incident: Incident, clock_id: int,
                        actor: Principal, note: str, now: datetime) -> SecurityClock:
    clock = session.get(SecurityClock, clock_id)
    if clock is None or clock.incident_id != incident.id:
        raise NotFound(f"no notification clock {clock_id} on this incident")
    if clock.notified_at is not None:
        raise Conflict(f"'{clock.name}' was already recorded as notified at "
                       f"{clock.notified_at:%Y-%m-%d %H:%M} UTC")
    clock.notified_at, clock.notified_by_id, clock.note = now, actor.user_id, note
    timers.cancel(session, f"security_clock:{clock.id}")
    late = "" if now <= clock.due_at else " (after the deadline)"
    incidents.append_event(session, incident, kind=lc.EventKind.NOTIFICATION_MADE, now=now,
                           actor=actor, body=f"{clock.name}: notification made{late}",
                           data={"clock_id": clock.id, "note": note})
    return clock
