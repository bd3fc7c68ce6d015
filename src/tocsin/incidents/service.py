"""Incident operations: load, decide with lifecycle.py, store, append to the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, overload

from sqlalchemy import Select, Table, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.catalog.service import service_info
from tocsin.clock import utc_label
from tocsin.db import rows
from tocsin.engine import timers
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.incidents import hooks, visibility
from tocsin.incidents import lifecycle as lc
from tocsin.incidents.models import Incident, IncidentEvent, IncidentMember, IncidentService
from tocsin.incidents.schemas import (
    CloseRequest,
    EntryCreate,
    IncidentCreate,
    IncidentUpdate,
    ResolveRequest,
)
from tocsin.principal import Principal
from tocsin.settings import Settings

TIMER_UPDATE_DUE = "incident.update_due"
TIMER_RECOVERY_END = "incident.recovery_watch_end"
ROLE_COLUMNS = {"commander": "commander_id", "tech_lead": "tech_lead_id",
                "comms_lead": "comms_lead_id"}
# Timeline entries that count as "an update" and so reset the update-reminder clock.
UPDATE_KINDS = frozenset({
    lc.EventKind.NOTE, lc.EventKind.HYPOTHESIS, lc.EventKind.ACTION, lc.EventKind.DECISION,
    lc.EventKind.STATUS_CHANGED, lc.EventKind.SEVERITY_CHANGED,
})


def _actor_id(actor: Principal | None) -> int | None:
    return actor.user_id if actor else None


@overload
def append_event(
    session: Session, incident: Incident, *, kind: lc.EventKind, now: datetime,
    actor: Principal | None, body: str = "", data: dict[str, Any] | None = None,
    keep: Literal[False] = False,
) -> None: ...


@overload
def append_event(
    session: Session, incident: Incident, *, kind: lc.EventKind, now: datetime,
    actor: Principal | None, body: str = "", data: dict[str, Any] | None = None,
    keep: Literal[True],
) -> IncidentEvent: ...


def append_event(
    session: Session, incident: Incident, *, kind: lc.EventKind, now: datetime,
    actor: Principal | None, body: str = "", data: dict[str, Any] | None = None,
    keep: bool = False,
) -> IncidentEvent | None:
    """Add an entry to the incident's timeline and let other features react (hooks).

    The entry is a plain row (db/rows.py); `keep`: an ORM object instead, returned with its
    id, for a caller that needs it."""
    data = data or {}
    values = {"incident_id": incident.id, "at": now, "kind": kind.value,
              "actor_id": _actor_id(actor), "body": body, "data": data}
    event = None
    if keep:
        event = rows.add_object(session, IncidentEvent, need_id=True, **values)
    else:
        rows.add(session, IncidentEvent, **values)
    incident.updated_at = now
    if kind in UPDATE_KINDS:
        incident.last_update_at = now
    hooks.after_event(session, incident=incident, kind=kind.value, data=data, now=now)
    return event


# Entries no feature reacts to (hooks.after_event does nothing for them): written in bulk by
# append_quiet_events without loading their incidents.
QUIET_KINDS = frozenset({lc.EventKind.PAGE_SENT})


def append_quiet_events(session: Session, entries: list[tuple[int, lc.EventKind, str,
                                                               dict[str, Any]]],
                        now: datetime) -> None:
    """Add (incident id, kind, body, data) entries of QUIET_KINDS, two statements for the
    lot; entries of incidents deleted meanwhile are dropped."""
    if any(kind not in QUIET_KINDS for _, kind, _, _ in entries):
        raise ValueError("only entries that no feature reacts to can skip the hooks")
    ids = sorted({iid for iid, _, _, _ in entries})
    if not ids:
        return
    connection = session.connection()
    found = set(connection.execute(_EXISTING, {"ids": ids}).scalars())
    rows = [{"incident_id": iid, "at": now, "kind": kind.value, "actor_id": None,
             "body": body, "data": data} for iid, kind, body, data in entries if iid in found]
    if rows:
        connection.execute(insert(_EVENTS), rows)
        connection.execute(_TOUCH, {"ids": sorted(found), "now": now})


# Built once (building them cost about as much as running them); run as Core.
_EXISTING = select(Incident.id).where(Incident.id.in_(bindparam("ids", expanding=True)))
_TOUCH = (update(Incident).where(Incident.id.in_(bindparam("ids", expanding=True)))
          .values(updated_at=bindparam("now")))
_EVENTS = cast(Table, IncidentEvent.__table__)


# ---- visibility (the rule: visibility.py) -------------------------------------------------

def get_visible(session: Session, *, incident_id: int, viewer: Principal,
                for_update: bool = False) -> Incident:
    """The incident, if `viewer` may see it. Restricted incidents answer 'not found' to
    outsiders so their existence does not leak."""
    query = select(Incident).where(Incident.id == incident_id,
                                   visibility.visible_incident(viewer))
    if for_update:
        query = query.with_for_update()
    incident = session.scalars(query).first()
    if incident is None:
        raise NotFound(f"incident INC-{incident_id} does not exist or is not visible to you")
    if incident.restricted:
        hooks.viewed(session, incident)  # need-to-know: every view is audited
    return incident


@dataclass
class ListFilters:
    statuses: list[lc.Status] | None = None
    severities: list[lc.Severity] | None = None
    service_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    open_only: bool = False


def list_visible(session: Session, *, viewer: Principal, filters: ListFilters,
                 before_id: int | None, limit: int) -> tuple[list[Incident], int | None]:
    """Newest first; returns the page and the id to continue before (None at the end)."""
    query: Select[Incident] = (select(Incident).where(visibility.visible_incident(viewer))
                               .order_by(Incident.id.desc()))
    if filters.statuses:
        query = query.where(Incident.status.in_([s.value for s in filters.statuses]))
    elif filters.open_only:
        query = query.where(Incident.status.in_([s.value for s in lc.OPEN_STATUSES]))
    if filters.severities:
        query = query.where(Incident.severity.in_([s.value for s in filters.severities]))
    if filters.service_id is not None:
        query = query.where(exists().where(IncidentService.incident_id == Incident.id,
                                           IncidentService.service_id == filters.service_id))
    if filters.created_after is not None:
        query = query.where(Incident.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(Incident.created_at < filters.created_before)
    if before_id is not None:
        query = query.where(Incident.id < before_id)
    rows = list(session.scalars(query.limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def drill_participants(session: Session, incident: Incident) -> list[int] | None:
    """A drill's participants (its members, in id order), who stand in for the real on-call;
    None for a real incident."""
    if not incident.drill:
        return None
    return list(session.scalars(select(IncidentMember.user_id)
                                .where(IncidentMember.incident_id == incident.id)
                                .order_by(IncidentMember.user_id)))


def service_ids_of(session: Session, incident_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in incident_ids}
    if incident_ids:
        rows = session.execute(
            select(IncidentService.incident_id, IncidentService.service_id)
            .where(IncidentService.incident_id.in_(incident_ids))
            .order_by(IncidentService.service_id)
        )
        for iid, sid in rows:
            out[iid].append(sid)
    return out


def timeline(session: Session, incident: Incident) -> list[IncidentEvent]:
    return list(session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.id)
    ))


# ---- validation helpers ------------------------------------------------------------------

def _check_users(session: Session, user_ids: list[int], field: str) -> None:
    if not user_ids:
        return
    found = set(session.scalars(select(User.id).where(User.id.in_(user_ids))))
    missing = sorted(set(user_ids) - found)
    if missing:
        raise Invalid(f"{field}: no user with id {', '.join(map(str, missing))}")


def _set_services(session: Session, incident: Incident, service_ids: list[int]) -> None:
    wanted = sorted(set(service_ids))
    # Existence from the configuration cache (triage asks for the alert's service, known).
    missing = [s for s in wanted if service_info(session, s) is None]
    if missing:
        raise Invalid(f"service_ids: no service with id {', '.join(map(str, missing))}")
    if not _has_no_services(session, incident):
        session.query(IncidentService).filter(
            IncidentService.incident_id == incident.id).delete()
    for sid in wanted:
        rows.add(session, IncidentService, incident_id=incident.id, service_id=sid)


def _has_no_services(session: Session, incident: Incident) -> bool:
    """Known without a query: created in this transaction and given none yet."""
    return rows.created_here(session, incident) and not rows.created_here(
        session, IncidentService, incident_id=incident.id)


def _schedule_reminder(session: Session, incident: Incident, settings: Settings,
                       now: datetime) -> None:
    key = f"incident:{incident.id}:update"
    delay = lc.reminder_delay(lc.Severity(incident.severity), settings.update_reminder_minutes)
    if delay is None or lc.Status(incident.status) not in lc.OPEN_STATUSES:
        timers.cancel(session, key, owner=incident)
        return
    timers.schedule(session, kind=TIMER_UPDATE_DUE, key=key, now=now, owner=incident,
                    due_at=incident.last_update_at + delay, payload={"incident_id": incident.id})


# ---- operations --------------------------------------------------------------------------

def declare(session: Session, *, actor: Principal | None, data: IncidentCreate, now: datetime,
            settings: Settings, drill: bool = False) -> Incident:
    """`drill`: a game-day incident whose pages reach only its members (drills/)."""
    wanted = [*data.member_ids, *([data.commander_id] if data.commander_id else [])]
    _check_users(session, wanted, "member_ids/commander_id")
    incident = rows.add_object(
        session, Incident, need_id=True, title=data.title,
        description=data.description, status=lc.Status.TRIGGERED.value,
        severity=data.severity.value, impact=data.impact.value, urgency=data.urgency.value,
        category_system=data.category_system.value if data.category_system else None,
        category_type=data.category_type.value if data.category_type else None,
        detection_source=data.detection_source.value, reporter_id=_actor_id(actor),
        commander_id=data.commander_id, drill=drill,
        # A security incident is need-to-know from its first moment (security/).
        restricted=data.restricted or lc.is_security(
            data.category_type.value if data.category_type else None),
        impact_started_at=data.impact_started_at, detected_at=now, last_update_at=now,
        reopen_count=0, created_at=now, updated_at=now,
    )
    _set_services(session, incident, data.service_ids)
    if settings.bridge_url_template:  # before `created`, so the first pages carry it
        incident.bridge_url = bridge_from_template(settings.bridge_url_template, incident)
    for uid in sorted(set(data.member_ids)):
        rows.add_object(session, IncidentMember, incident_id=incident.id, user_id=uid)
    append_event(session, incident, kind=lc.EventKind.CREATED, now=now, actor=actor,
                 body=f"{incident.number} declared: {incident.title}",
                 data={"severity": incident.severity, "source": incident.detection_source,
                       "service_ids": sorted(set(data.service_ids))})
    _schedule_reminder(session, incident, settings, now)
    return incident


def update_fields(session: Session, *, incident: Incident, actor: Principal,
                  data: IncidentUpdate, now: datetime) -> Incident:
    changes = data.model_dump(exclude_unset=True)
    service_ids = changes.pop("service_ids", None)
    category = changes.get("category_type", incident.category_type)
    if changes.get("restricted") is False and lc.is_security(getattr(category, "value", category)):
        raise Invalid("restricted: a security incident stays restricted (need-to-know)")
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        value = value.value if hasattr(value, "value") else value
        if getattr(incident, name) != value:
            diff[name] = {"from": _jsonable(getattr(incident, name)), "to": _jsonable(value)}
            setattr(incident, name, value)
    if service_ids is not None:
        before = service_ids_of(session, [incident.id])[incident.id]
        if sorted(set(service_ids)) != before:
            _set_services(session, incident, service_ids)
            diff["service_ids"] = {"from": before, "to": sorted(set(service_ids))}
    if diff:
        append_event(session, incident, kind=lc.EventKind.FIELD_CHANGED, now=now, actor=actor,
                     body="changed " + ", ".join(sorted(diff)), data=diff)
    return incident


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _move(session: Session, incident: Incident, target: lc.Status, *, actor: Principal | None,
          now: datetime, note: str = "", reopening: bool = False) -> None:
    current = lc.Status(incident.status)
    lc.check_transition(current, target, reopening=reopening)
    incident.status = target.value
    append_event(session, incident, kind=lc.EventKind.STATUS_CHANGED, now=now, actor=actor,
                 body=note or f"status {current.value} → {target.value}",
                 data={"from": current.value, "to": target.value})


def acknowledge(session: Session, *, incident: Incident, actor: Principal,
                now: datetime, settings: Settings) -> bool:
    """Acknowledge a triggered incident. Returns False (and changes nothing) when someone is
    already on it; resolved/closed incidents refuse."""
    status = lc.Status(incident.status)
    if status in lc.OPEN_STATUSES and status is not lc.Status.TRIGGERED:
        return False
    _move(session, incident, lc.Status.ACKNOWLEDGED, actor=actor, now=now,
          note="acknowledged")
    incident.acknowledged_at = incident.acknowledged_at or now
    incident.acknowledged_by_id = actor.user_id
    if incident.commander_id is None:
        incident.commander_id = actor.user_id
        append_event(session, incident, kind=lc.EventKind.ROLE_CHANGED, now=now, actor=actor,
                     body="acknowledger takes the incident commander role",
                     data={"role": "commander", "from": None, "to": actor.user_id})
    _schedule_reminder(session, incident, settings, now)
    return True


def acknowledge_from_sender(session: Session, *, incident: Incident, source: str,
                            now: datetime, settings: Settings) -> bool:
    """An alert sender (not a person) acknowledged: move a triggered incident to
    acknowledged without naming a user. Returns False when it is not triggered."""
    if lc.Status(incident.status) is not lc.Status.TRIGGERED:
        return False
    _move(session, incident, lc.Status.ACKNOWLEDGED, actor=None, now=now,
          note=f"acknowledged by the alert sender ({source})")
    incident.acknowledged_at = incident.acknowledged_at or now
    _schedule_reminder(session, incident, settings, now)
    return True


def change_status(session: Session, *, incident: Incident, actor: Principal,
                  target: lc.Status, note: str, now: datetime, settings: Settings) -> None:
    if target is lc.Status.RESOLVED:
        resolve(session, incident=incident, actor=actor, data=ResolveRequest(), now=now,
                settings=settings, note=note)
        return
    if target is lc.Status.CLOSED:
        raise Invalid("use the close action to close an incident: it checks the record")
    if target is lc.Status.ACKNOWLEDGED:
        if not acknowledge(session, incident=incident, actor=actor, now=now, settings=settings):
            lc.check_transition(lc.Status(incident.status), target)
        return
    _move(session, incident, target, actor=actor, now=now, note=note)
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now
        incident.acknowledged_by_id = actor.user_id
    _schedule_reminder(session, incident, settings, now)


def change_severity(session: Session, *, incident: Incident, actor: Principal,
                    severity: lc.Severity, reason: str, now: datetime,
                    settings: Settings) -> None:
    before = lc.Severity(incident.severity)
    if before is severity:
        return
    incident.severity = severity.value
    direction = "raised" if severity.rank < before.rank else "lowered"
    append_event(session, incident, kind=lc.EventKind.SEVERITY_CHANGED, now=now, actor=actor,
                 body=f"severity {direction} {before.value} → {severity.value}: {reason}",
                 data={"from": before.value, "to": severity.value, "reason": reason})
    _schedule_reminder(session, incident, settings, now)


def assign_role(session: Session, *, incident: Incident, actor: Principal, role: str,
                user_id: int | None, now: datetime) -> None:
    column = ROLE_COLUMNS[role]
    if user_id is not None:
        _check_users(session, [user_id], "user_id")
    before = getattr(incident, column)
    if before == user_id:
        return
    setattr(incident, column, user_id)
    append_event(session, incident, kind=lc.EventKind.ROLE_CHANGED, now=now, actor=actor,
                 body=f"{role} {'unassigned' if user_id is None else 'assigned'}",
                 data={"role": role, "from": before, "to": user_id})


def add_entry(session: Session, *, incident: Incident, actor: Principal, entry: EntryCreate,
              now: datetime, settings: Settings) -> IncidentEvent:
    if entry.kind == "decision" and not (entry.reason or "").strip():
        raise Invalid("reason: a decision needs the reason it was taken")
    data: dict[str, Any] = {}
    if entry.result is not None:
        data["result"] = entry.result
    if entry.reason is not None:
        data["reason"] = entry.reason
    event = append_event(session, incident, kind=lc.EventKind(entry.kind), now=now,
                         actor=actor, body=entry.body, data=data, keep=True)
    _schedule_reminder(session, incident, settings, now)
    return event


def bridge_from_template(template: str, incident: Incident) -> str:
    """The template (`bridge_url_template`) with {id} and {number} filled in."""
    return template.replace("{id}", str(incident.id)).replace("{number}", incident.number)


def set_bridge(session: Session, *, incident: Incident, actor: Principal | None,
               url: str | None, now: datetime) -> None:
    """Set (or with None clear) the incident's conference link; only http(s) URLs."""
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise Invalid("url: a bridge link is an http:// or https:// URL")
    if incident.bridge_url == url:
        return
    before, incident.bridge_url = incident.bridge_url, url
    append_event(session, incident, kind=lc.EventKind.BRIDGE_SET, now=now, actor=actor,
                 body=f"bridge: {url}" if url else "bridge removed",
                 data={"from": before, "to": url})


def add_member(session: Session, *, incident: Incident, actor: Principal, user_id: int,
               now: datetime) -> None:
    _check_users(session, [user_id], "user_id")
    if session.get(IncidentMember, (incident.id, user_id)) is None:
        rows.add_object(session, IncidentMember, incident_id=incident.id, user_id=user_id)
        append_event(session, incident, kind=lc.EventKind.MEMBER_ADDED, now=now, actor=actor,
                     body="member added", data={"user_id": user_id})


def resolve(session: Session, *, incident: Incident, actor: Principal | None,
            data: ResolveRequest, now: datetime, settings: Settings, note: str = "") -> None:
    _move(session, incident, lc.Status.RESOLVED, actor=actor, now=now,
          note=note or "resolved")
    incident.resolved_at = now
    if data.resolution_summary is not None:
        incident.resolution_summary = data.resolution_summary
    if data.users_affected is not None:
        incident.users_affected = data.users_affected
    incident.impact_ended_at = data.impact_ended_at or incident.impact_ended_at or now
    if incident.impact_started_at is None:
        incident.impact_started_at = incident.detected_at
    window = lc.recovery_window(lc.Severity(incident.severity), settings.recovery_watch_minutes)
    incident.recovery_until = now + window
    append_event(session, incident, kind=lc.EventKind.RESOLVED, now=now, actor=actor,
                 body=f"recovery watch until {utc_label(incident.recovery_until)}",
                 data={"recovery_until": incident.recovery_until.isoformat()})
    timers.cancel(session, f"incident:{incident.id}:update", owner=incident)
    timers.schedule(session, kind=TIMER_RECOVERY_END, key=f"incident:{incident.id}:recovery",
                    due_at=incident.recovery_until, now=now, owner=incident,
                    payload={"incident_id": incident.id})


def close(session: Session, *, incident: Incident, actor: Principal, data: CloseRequest,
          now: datetime) -> None:
    for name in ("resolution_summary", "impact_started_at", "impact_ended_at", "users_affected"):
        value = getattr(data, name)
        if value is not None:
            setattr(incident, name, value)
    if data.skip_recovery_watch and not (data.reason or "").strip():
        raise Invalid("reason: closing before the recovery watch ends needs a reason")
    check = close_check_of(incident, now=now, skip_recovery_watch=data.skip_recovery_watch)
    if not check.ok:
        raise Conflict("the incident cannot close yet: " + "; ".join(check.missing),
                       extra={"missing": check.missing})
    _move(session, incident, lc.Status.CLOSED, actor=actor, now=now, note="closed")
    incident.closed_at = now
    body = "closed" + (f" before the recovery watch ended: {data.reason}"
                       if lc.in_recovery_watch(incident.recovery_until, now) else "")
    append_event(session, incident, kind=lc.EventKind.CLOSED, now=now, actor=actor, body=body)
    timers.cancel(session, f"incident:{incident.id}:recovery", owner=incident)


def close_check_of(incident: Incident, *, now: datetime,
                   skip_recovery_watch: bool = False) -> lc.CloseCheck:
    return lc.close_check(
        status=lc.Status(incident.status), resolution_summary=incident.resolution_summary,
        impact_started_at=incident.impact_started_at, impact_ended_at=incident.impact_ended_at,
        users_affected=incident.users_affected, recovery_until=incident.recovery_until,
        skip_recovery_watch=skip_recovery_watch, now=now)


def reopen(session: Session, *, incident: Incident, actor: Principal | None, reason: str,
           now: datetime, settings: Settings,
           target: lc.Status = lc.Status.INVESTIGATING) -> None:
    _move(session, incident, target, actor=actor, now=now, note=f"reopened: {reason}",
          reopening=True)
    incident.reopen_count += 1
    incident.resolved_at = None
    incident.closed_at = None
    incident.recovery_until = None
    append_event(session, incident, kind=lc.EventKind.REOPENED, now=now, actor=actor,
                 body=reason, data={"to": target.value})
    timers.cancel(session, f"incident:{incident.id}:recovery", owner=incident)
    _schedule_reminder(session, incident, settings, now)


def record_recurrence(session: Session, *, incident: Incident, detail: str, now: datetime,
                      settings: Settings) -> bool:
    """The problem came back. Reopens a resolved incident still in its recovery watch and
    returns True; returns False when the incident can no longer take it (closed, or the watch
    is over), so the caller opens a new incident instead."""
    status = lc.Status(incident.status)
    if status in lc.OPEN_STATUSES:
        append_event(session, incident, kind=lc.EventKind.RECURRENCE, now=now, actor=None,
                     body=detail)
        return True
    if status is lc.Status.RESOLVED and lc.in_recovery_watch(incident.recovery_until, now):
        append_event(session, incident, kind=lc.EventKind.RECURRENCE, now=now, actor=None,
                     body=detail)
        reopen(session, incident=incident, actor=None, now=now, settings=settings,
               reason="recurred during the recovery watch", target=lc.Status.TRIGGERED)
        return True
    return False


# ---- timer handlers (listed in tocsin/jobs.py) ---------------------------------------------

def on_update_due(session: Session, *, incident_id: int, now: datetime,
                  settings: Settings) -> None:
    incident = session.get(Incident, incident_id)
    if incident is None or lc.Status(incident.status) not in lc.OPEN_STATUSES:
        return
    delay = lc.reminder_delay(lc.Severity(incident.severity), settings.update_reminder_minutes)
    if delay is None:
        return
    if now < incident.last_update_at + delay:
        # An update arrived after this timer was set; wait from that update instead.
        _schedule_reminder(session, incident, settings, now)
        return
    append_event(session, incident, kind=lc.EventKind.UPDATE_DUE, now=now, actor=None,
                 body=f"status update due: last update {utc_label(incident.last_update_at)}",
                 data={"commander_id": incident.commander_id,
                       "last_update_at": incident.last_update_at.isoformat()})
    timers.schedule(session, kind=TIMER_UPDATE_DUE, key=f"incident:{incident.id}:update",
                    now=now, due_at=now + delay, payload={"incident_id": incident.id})


def on_recovery_watch_end(session: Session, *, incident_id: int, now: datetime) -> None:
    incident = session.get(Incident, incident_id)
    if incident is None or lc.Status(incident.status) is not lc.Status.RESOLVED:
        return
    if incident.recovery_until is None or now < incident.recovery_until:
        return
    append_event(session, incident, kind=lc.EventKind.RECOVERY_WATCH_ENDED, now=now,
                 actor=None, body="no recurrence during the recovery watch; ready to close")
