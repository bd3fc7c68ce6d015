"""Handoff briefings: at each shift change the incoming person gets open incidents, changes
recorded during the last shift and the noisiest alerts.

One durable timer per schedule (`schedule:<id>:handoff`), due at the next change of person;
saving the schedule or an override re-arms it, and its handler arms the following one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.alerts import service as alerts
from tocsin.catalog.models import Service
from tocsin.db import rows
from tocsin.engine import timers
from tocsin.errors import Forbidden
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import visibility
from tocsin.incidents.models import Incident
from tocsin.notify import service as notify
from tocsin.principal import Principal, Role
from tocsin.schedules import oncall, service
from tocsin.schedules.models import HandoffNote, Schedule

TIMER_HANDOFF = "schedule.handoff"


def timer_key(schedule_id: int) -> str:
    return f"schedule:{schedule_id}:handoff"


def _definition(session: Session, schedule: Schedule, start: datetime) -> oncall.Schedule:
    overrides = service.overrides_of(session, [schedule.id], start=start,
                                     end=start + timedelta(days=40))[schedule.id]
    return service.definition(schedule, overrides)


def arm(session: Session, *, schedule: Schedule, now: datetime) -> None:
    """(Re)schedule the next handoff timer of this schedule, or cancel it if none comes."""
    nxt = oncall.next_handoff(_definition(session, schedule, now), now) \
        if schedule.layers else None
    if nxt is None:
        timers.cancel(session, timer_key(schedule.id))
        return
    timers.schedule(session, kind=TIMER_HANDOFF, key=timer_key(schedule.id), now=now,
                    due_at=nxt.at, payload={"schedule_id": schedule.id,
                                            "incoming": nxt.incoming,
                                            "outgoing": nxt.outgoing})


def briefing(session: Session, *, schedule: Schedule, since: datetime, now: datetime,
             reader: Principal) -> tuple[str, str]:
    """Subject and text for `reader`: only incidents and alerts they may see."""
    open_incidents = list(session.scalars(select(Incident).where(
        Incident.status.in_([s.value for s in lc.OPEN_STATUSES]),
        visibility.visible_incident(reader))
        .order_by(Incident.severity, Incident.id).limit(20)))
    service_ids = list(session.scalars(select(Service.id).where(
        Service.owner_team_id == schedule.team_id))) if schedule.team_id else \
        list(session.scalars(select(Service.id)))
    changes = alerts.recent_changes(session, service_ids=service_ids, since=since, limit=10)
    noisy = alerts.noisiest_alerts(session, since=since, viewer=reader,
                                   service_ids=service_ids)
    lines = [f"You are on call for {schedule.name} from {now.isoformat()}.", "",
             f"Open incidents ({len(open_incidents)}):"]
    lines += [f"- INC-{i.id} [{i.severity}] {i.status}: {i.title}" for i in open_incidents] \
        or ["- none"]
    lines += ["", "Changes during the last shift:"]
    lines += [f"- {c.at.isoformat()} {c.summary}" for c in changes] or ["- none recorded"]
    lines += ["", "Noisiest alerts during the last shift:"]
    lines += [f"- {a.summary} ({a.occurrences}x, {a.status})" for a in noisy] or ["- none"]
    return f"On call now: {schedule.name} ({len(open_incidents)} open incidents)", \
        "\n".join(lines)


def on_handoff(session: Session, *, payload: dict[str, Any], now: datetime) -> None:
    """Timer handler: brief whoever is on call now, then arm the next handoff."""
    schedule = session.get(Schedule, int(payload["schedule_id"]))
    if schedule is None:
        return
    definition = _definition(session, schedule, now - timedelta(days=1))
    incoming = oncall.on_call_at(definition, now)
    user = session.get(User, incoming) if incoming is not None else None
    if user is not None:
        # The last shift: back from now to where the previous person's stretch began.
        past = oncall.final_shifts(definition, now - timedelta(days=14), now).shifts
        since = past[-1].start if past else now - timedelta(hours=12)
        subject, text = briefing(session, schedule=schedule, since=since, now=now,
                                 reader=Principal(user_id=user.id, role=Role(user.role)))
        text = deliver_notes(session, schedule=schedule, to_user_id=user.id, now=now) + text
        notify.send_briefing(session, user_id=user.id, now=now, subject=subject, text=text,
                             key=f"handoff:{schedule.id}:{int(now.timestamp())}:{user.id}")
    arm(session, schedule=schedule, now=now)


# ---- handoff notes: the outgoing on-call's words for the incoming one ----------------------

def add_note(session: Session, *, schedule: Schedule, author: Principal, text: str,
             now: datetime) -> HandoffNote:
    """Whoever is on call now (or an admin) leaves a note for the next handoff."""
    on_call = oncall.on_call_at(_definition(session, schedule, now - timedelta(days=1)), now)
    if author.user_id != on_call and not author.role.allows(Role.ADMIN):
        raise Forbidden("only the person on call now (or an admin) writes the handoff note")
    return rows.add_object(session, HandoffNote, need_id=True, schedule_id=schedule.id,
                           author_id=author.user_id, text=text, delivered_at=None,
                           delivered_to_id=None, created_at=now)


def notes_of(session: Session, schedule_id: int) -> list[HandoffNote]:
    return list(session.scalars(select(HandoffNote).where(
        HandoffNote.schedule_id == schedule_id).order_by(HandoffNote.id)))


def deliver_notes(session: Session, *, schedule: Schedule, to_user_id: int,
                  now: datetime) -> str:
    """The notes not yet delivered, as the top of the briefing; marked delivered (kept on
    the schedule)."""
    pending = list(session.scalars(select(HandoffNote).where(
        HandoffNote.schedule_id == schedule.id, HandoffNote.delivered_at.is_(None))
        .order_by(HandoffNote.id)))
    if not pending:
        return ""
    names: dict[int, str] = {uid: name for uid, name in session.execute(select(
        User.id, User.name).where(
        User.id.in_([n.author_id for n in pending if n.author_id is not None])))}
    lines = ["Handoff notes from the last shift:"]
    for note in pending:
        lines.append(f"- {names.get(note.author_id or 0, 'someone')}: {note.text}")
        note.delivered_at, note.delivered_to_id = now, to_user_id
    return "\n".join(lines) + "\n\n"
