"""Action items: one owner, a due date, a priority, a status; reminded before and after the
due date until done; linked to the incident and its post-mortem."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.db import rows
from tocsin.engine import timers
from tocsin.errors import Invalid, NotFound
from tocsin.incidents import service as incidents
from tocsin.incidents import visibility
from tocsin.incidents.models import Incident
from tocsin.notify import service as notify
from tocsin.postmortems import reminders, trackers
from tocsin.postmortems.models import ActionItem, ActionStatus, Postmortem
from tocsin.postmortems.schemas import ActionItemIn, ActionItemOut, ActionItemUpdate
from tocsin.postmortems.service import check_users, schedule_reminder
from tocsin.principal import Principal
from tocsin.settings import Settings

TIMER_REMINDER = "action_item.reminder"
FINISHED = frozenset({ActionStatus.DONE.value, ActionStatus.CANCELLED.value})


def _check_due(due_at: datetime, now: datetime) -> None:
    if due_at.tzinfo is None:
        raise Invalid("due_at: give a time zone (e.g. 2026-12-24T17:00:00Z)")
    if due_at <= now:
        raise Invalid("due_at: the due date is in the past")


def create(session: Session, *, incident: Incident, data: ActionItemIn, now: datetime,
           settings: Settings) -> ActionItem:
    check_users(session, [data.owner_id], "owner_id")
    _check_due(data.due_at, now)
    if data.sync_to is not None and data.sync_to not in trackers.configured(settings):
        raise Invalid(f"sync_to: {data.sync_to} is not configured on this server "
                      "(docs/configuration.md)")
    pm_id = session.scalars(select(Postmortem.id)
                            .where(Postmortem.incident_id == incident.id)).first()
    item = rows.add_object(
        session, ActionItem, need_id=True, incident_id=incident.id, postmortem_id=pm_id,
        title=data.title, owner_id=data.owner_id, due_at=data.due_at,
        priority=data.priority.value, status=ActionStatus.OPEN.value, reminders_sent=0,
        external_kind=data.sync_to, created_at=now, updated_at=now)
    _schedule(session, item, now, settings, first=True)
    return item


def update(session: Session, *, item: ActionItem, data: ActionItemUpdate, now: datetime,
           settings: Settings) -> None:
    changes = data.model_dump(exclude_unset=True)
    if changes.get("owner_id") is not None:
        check_users(session, [changes["owner_id"]], "owner_id")
    if changes.get("due_at") is not None:
        _check_due(changes["due_at"], now)
    for name, value in changes.items():
        if value is not None:
            setattr(item, name, value.value if hasattr(value, "value") else value)
    item.updated_at = now
    if item.status in FINISHED:
        item.done_at = now if item.status == ActionStatus.DONE.value else None
        timers.cancel(session, f"action_item:{item.id}:reminder", owner=item)
    elif "due_at" in changes or "status" in changes:
        item.done_at = None
        _schedule(session, item, now, settings, first=True)


def get_visible(session: Session, *, item_id: int, viewer: Principal) -> ActionItem:
    item = session.get(ActionItem, item_id)
    missing = NotFound(f"action item {item_id} does not exist or is not visible to you")
    if item is None:
        raise missing
    try:
        incidents.get_visible(session, incident_id=item.incident_id, viewer=viewer)
    except NotFound:
        raise missing from None
    return item


def list_visible(session: Session, *, viewer: Principal, incident_id: int | None = None,
                 owner_id: int | None = None, open_only: bool = False,
                 after_id: int | None = None, limit: int = 500) -> list[ActionItem]:
    stmt = select(ActionItem).join(Incident, Incident.id == ActionItem.incident_id).where(
        visibility.visible_incident(viewer))
    if incident_id is not None:
        stmt = stmt.where(ActionItem.incident_id == incident_id)
    if owner_id is not None:
        stmt = stmt.where(ActionItem.owner_id == owner_id)
    if open_only:
        stmt = stmt.where(ActionItem.status.not_in(FINISHED))
    if after_id is not None:
        stmt = stmt.where(ActionItem.id > after_id)
    return list(session.scalars(stmt.order_by(ActionItem.id).limit(limit)))


def out(item: ActionItem, now: datetime) -> ActionItemOut:
    return ActionItemOut(
        id=item.id, incident_id=item.incident_id, postmortem_id=item.postmortem_id,
        title=item.title, owner_id=item.owner_id, due_at=item.due_at, priority=item.priority,
        status=item.status, overdue=item.status not in FINISHED and item.due_at <= now,
        reminders_sent=item.reminders_sent, external_kind=item.external_kind,
        external_ref=item.external_ref, external_status=item.external_status,
        done_at=item.done_at)


def _schedule(session: Session, item: ActionItem, now: datetime, settings: Settings, *,
              first: bool) -> None:
    schedule_reminder(session, kind=TIMER_REMINDER, key=f"action_item:{item.id}:reminder",
                      owner=item, due_at=item.due_at, payload={"action_item_id": item.id},
                      now=now, settings=settings, first=first)


def on_reminder(session: Session, *, item_id: int, now: datetime, settings: Settings) -> None:
    """Remind the owner (an outgoing message per verified contact method) and schedule the
    next reminder; nothing once the item is done or cancelled."""
    item = session.get(ActionItem, item_id)
    if item is None or item.status in FINISHED:
        return
    stage = reminders.stage(item.due_at, now=now)
    word = "is overdue" if stage == "overdue" else "is due soon"
    notify.send_briefing(
        session, user_id=item.owner_id, now=now,
        subject=f"Action item {word}: {item.title}",
        text=f"Action item #{item.id} '{item.title}' (INC-{item.incident_id}, priority "
             f"{item.priority}) {word}: due {item.due_at:%Y-%m-%d %H:%M} UTC.",
        key=f"action_item:{item.id}:{stage}:{int(now.timestamp())}")
    item.reminders_sent += 1
    _schedule(session, item, now, settings, first=False)
