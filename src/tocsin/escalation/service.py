"""Escalation: start, step, stop, cancel and restart; the decisions come from policy.py.

Every step is a durable timer keyed per incident (`escalation:<incident id>`) and carries the
escalation's generation; stopping or restarting bumps the generation, so a step that was
already claimed, or a duplicate, does nothing. Pages are outbox rows (notify.service) written
in the same transaction as the step that decided them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.models import Team, User
from tocsin.catalog.models import Service
from tocsin.db import config_cache, rows
from tocsin.db.config_cache import config_cached
from tocsin.engine import timers
from tocsin.errors import Invalid, NotFound
from tocsin.escalation import policy as pol
from tocsin.escalation.models import (
    Escalation,
    EscalationPolicy,
    EscalationStatus,
    RoundRobinTurn,
    ServicePolicy,
)
from tocsin.escalation.schemas import PageIn, PolicyIn, ServicePoliciesIn
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentService
from tocsin.notify import service as notify
from tocsin.schedules import service as schedules
from tocsin.schedules.models import Schedule

TIMER_STEP = "escalation.step"


def timer_key(incident_id: int) -> str:
    return f"escalation:{incident_id}"


# ---- policies ------------------------------------------------------------------------------

def _to_policy(data: PolicyIn) -> pol.Policy:
    return pol.Policy(repeat=data.repeat, levels=tuple(pol.Level(lv.delay_minutes, tuple(
        pol.Target(t.kind, t.id, t.mode) for t in lv.targets)) for lv in data.levels))


def _check_targets(session: Session, data: PolicyIn) -> None:
    problems = pol.problems(_to_policy(data))
    models: dict[pol.TargetKind, Any] = {pol.TargetKind.USER: User, pol.TargetKind.TEAM: Team,
                                         pol.TargetKind.SCHEDULE: Schedule}
    for i, lv in enumerate(data.levels, start=1):
        for t in lv.targets:
            if session.get(models[t.kind], t.id) is None:
                problems.append(f"level {i}: no {t.kind.value} with id {t.id}")
    if problems:
        raise Invalid("; ".join(problems), extra={"problems": problems})


def create_policy(session: Session, *, data: PolicyIn, now: datetime) -> EscalationPolicy:
    _check_targets(session, data)
    if session.scalars(select(EscalationPolicy.id)
                       .where(EscalationPolicy.name == data.name)).first():
        raise Invalid(f"name: a policy named '{data.name}' already exists")
    row = EscalationPolicy(name=data.name, description=data.description, repeat=data.repeat,
                           levels=[lv.model_dump(mode="json") for lv in data.levels],
                           team_id=data.team_id, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    config_cache.touched(session)
    return row



def update_policy(session: Session, *, row: EscalationPolicy, data: PolicyIn,
                  now: datetime) -> EscalationPolicy:
    """Running escalations keep their snapshot; only new ones use the edit."""
    _check_targets(session, data)
    row.name, row.description, row.repeat = data.name, data.description, data.repeat
    row.levels = [lv.model_dump(mode="json") for lv in data.levels]
    row.team_id = data.team_id
    row.updated_at = now
    config_cache.touched(session)
    return row


def get_policy(session: Session, policy_id: int) -> EscalationPolicy:
    row = session.get(EscalationPolicy, policy_id)
    if row is None:
        raise NotFound(f"no escalation policy with id {policy_id}")
    return row


def list_policies(session: Session) -> list[EscalationPolicy]:
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.id)))


def set_service_policies(session: Session, *, service_id: int,
                         data: ServicePoliciesIn) -> dict[str, int]:
    if session.get(Service, service_id) is None:
        raise NotFound(f"no service with id {service_id}")
    for pid in set(data.policies.values()):
        get_policy(session, pid)
    session.query(ServicePolicy).filter(ServicePolicy.service_id == service_id).delete()
    for sev, pid in data.policies.items():
        session.add(ServicePolicy(service_id=service_id, severity=sev.value, policy_id=pid))
    session.flush()
    config_cache.touched(session)
    return service_policies(session, service_id)


def service_policies(session: Session, service_id: int) -> dict[str, int]:
    rows = session.execute(select(ServicePolicy.severity, ServicePolicy.policy_id)
                           .where(ServicePolicy.service_id == service_id)).all()
    return {sev: pid for sev, pid in rows}


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """What starting an escalation needs of a policy (plain, shared between transactions)."""

    id: int
    name: str
    repeat: int
    levels: list[dict[str, Any]]
    policy: pol.Policy  # parsed once, with the snapshot an escalation stores (not to edit)
    snapshot: dict[str, Any]


def _policy_for(session: Session, incident: Incident,
                services: tuple[int, ...] | None = None) -> PolicyRow | None:
    """The policy of the incident's first service (by id) that has one for its severity.
    Configuration: read once per process until policies change (config_cache).
    `services`: the incident's, when the caller knows them."""
    if services is None:
        services = tuple(sorted(session.scalars(select(IncidentService.service_id).where(
            IncidentService.incident_id == incident.id))))
    return config_cached(session, ("escalation_policy", services, incident.severity),
                         lambda: _policy_of(session, services, incident.severity))


def _policy_of(session: Session, services: tuple[int, ...],
               severity: str) -> PolicyRow | None:
    row = session.scalars(
        select(EscalationPolicy).join(ServicePolicy, ServicePolicy.policy_id == EscalationPolicy.id)
        .where(ServicePolicy.service_id.in_(services), ServicePolicy.severity == severity)
        .order_by(ServicePolicy.service_id)).first()
    if row is None:
        return None
    policy = pol.from_snapshot({"repeat": row.repeat, "levels": row.levels})
    return PolicyRow(id=row.id, name=row.name, repeat=row.repeat, levels=list(row.levels),
                     policy=policy, snapshot=pol.to_snapshot(row.id, row.name, policy))


# ---- running escalations ---------------------------------------------------------------------

def _event(session: Session, incident: Incident, kind: lc.EventKind, now: datetime, body: str,
           data: dict[str, Any] | None = None) -> None:
    incidents.append_event(session, incident, kind=kind, now=now, actor=None, body=body,
                           data=data)


def start(session: Session, *, incident: Incident, now: datetime, reason: str,
          quiet: bool = False, services: tuple[int, ...] | None = None,
          owned: bool = False) -> None:
    """Snapshot the policy for the incident's severity and fire its first level now.
    `quiet`: say nothing on the timeline when there is no policy (it was said at creation).
    `services`: the incident's, when the caller knows them.
    `owned`: someone already acknowledged the incident (its severity was raised since): the
    first level is paged once, so the stricter policy's people learn it got worse, and no
    further steps follow."""
    row = _policy_for(session, incident, services)
    esc = _escalation_of(session, incident)
    if row is None:
        if esc is not None:
            _halt(session, esc, EscalationStatus.CANCELLED, now)
        if quiet:
            return
        _event(session, incident, lc.EventKind.ESCALATION_SKIPPED, now,
               f"no escalation policy for {incident.severity} on this incident's services: "
               "nobody is paged automatically")
        return
    notify.cancel_pages(session, incident_id=incident.id, now=now)
    generation = (esc.generation if esc is not None else 0) + 1
    snapshot = dict(row.snapshot)
    _event(session, incident, lc.EventKind.ESCALATION_STARTED, now,
           f"escalation started with policy '{row.name}' ({reason})",
           {"policy_id": row.id, "generation": generation})
    exhausted = _fire(session, snapshot, generation, incident, pol.Position(0, 0), now,
                      last=owned, policy=row.policy)
    status = EscalationStatus.ACKNOWLEDGED if owned else \
        EscalationStatus.EXHAUSTED if exhausted else EscalationStatus.ACTIVE
    values = {"policy_id": row.id, "severity": incident.severity, "snapshot": snapshot,
              "status": status.value, "level": 0, "loop": 0, "generation": generation,
              "started_at": now, "updated_at": now}
    if esc is None:  # complete now: a plain row (db/rows.py), not an ORM object
        rows.add(session, Escalation, incident_id=incident.id, **values)
    else:
        for name, value in values.items():
            setattr(esc, name, value)


def _escalation_of(session: Session, incident: Incident) -> Escalation | None:
    """The incident's escalation; known to be none, without a query, when the incident was
    created in this transaction and none was added for it."""
    if rows.created_here(session, incident) and not rows.created_here(
            session, Escalation, incident_id=incident.id):
        return None
    return session.scalars(select(Escalation).where(Escalation.incident_id == incident.id)
                           ).first()


def _halt(session: Session, esc: Escalation, status: EscalationStatus, now: datetime) -> None:
    esc.status = status.value
    esc.generation += 1
    esc.updated_at = now
    timers.cancel(session, timer_key(esc.incident_id))
    notify.cancel_pages(session, incident_id=esc.incident_id, now=now,
                        escalation_only=status is EscalationStatus.ACKNOWLEDGED)


def _next_turn(session: Session, *, policy_id: int, level: int, team_id: int) -> int:
    """Count one more page to a round-robin team target; returns the turn it takes (0,
    1, 2 …). One statement that inserts or increments, so concurrent workers on
    PostgreSQL each get their own turn."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RoundRobinTurn).values(policy_id=policy_id, level=level,
                                              team_id=team_id, turns=1)
    turns = session.scalar(statement.on_conflict_do_update(
        index_elements=["policy_id", "level", "team_id"],
        set_={"turns": RoundRobinTurn.turns + 1}).returning(RoundRobinTurn.turns))
    return int(turns or 1) - 1


def _resolve_users(session: Session, incident: Incident, targets: tuple[pol.Target, ...],
                   loop: int, now: datetime,
                   turn_of: tuple[int, int] | None = None) -> tuple[list[int], list[str]]:
    """User ids to page (in order, no repeats) and why any target yielded nobody.
    `turn_of`: (policy id, level) whose stored counters pick round-robin team members;
    without it (pages on demand) the turn follows the incident id."""
    users: list[int] = []
    nobody: list[str] = []
    for t in targets:
        found: list[int] = []
        if t.kind is pol.TargetKind.USER:
            found = [t.id] if _user_active(session, t.id) else []
        elif t.kind is pol.TargetKind.SCHEDULE:
            who = schedules.on_call_user(session, schedule_id=t.id, at=now)
            found = [who] if who is not None else []
        else:
            members = accounts.team_member_ids(session, t.id)
            if t.mode is not pol.TeamMode.ROUND_ROBIN:
                found = members
            elif turn_of is None:
                found = pol.round_robin(members, incident.id + loop)
            elif members:
                found = pol.round_robin(members, _next_turn(
                    session, policy_id=turn_of[0], level=turn_of[1], team_id=t.id))
        if not found:
            nobody.append(_why_nobody(session, t))
        users += [u for u in found if u not in users]
    stand_ins = incidents.drill_participants(session, incident)
    if stand_ins is not None:  # a drill pages its participants, never the real on-call
        return stand_ins, ([] if stand_ins else ["the drill has no participants"])
    return users, nobody


def _why_nobody(session: Session, target: pol.Target) -> str:
    """Why a target yielded nobody, naming it (the timeline and banners show these words;
    only written when paging failed, so the name look-ups cost nothing in the usual case)."""
    if target.kind is pol.TargetKind.USER:
        user = session.get(User, target.id)
        return f"{user.name} is deactivated" if user is not None \
            else f"user #{target.id} no longer exists"
    if target.kind is pol.TargetKind.SCHEDULE:
        schedule = session.get(Schedule, target.id)
        name = schedule.name if schedule is not None else f"#{target.id}"
        return f"schedule {name} has nobody on call now"
    team = session.get(Team, target.id)
    return f"team {team.name if team is not None else f'#{target.id}'} has no members"


def _unreachable(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return f"{user.name if user is not None else f'user #{user_id}'} has no verified " \
        "contact method"


def _user_active(session: Session, user_id: int) -> bool:
    """Whether the user exists and is active (configuration, see config_cache)."""
    def load() -> bool:
        user = session.get(User, user_id)
        return user is not None and user.active
    return config_cached(session, ("user_active", user_id), load)


def _fire(session: Session, snapshot: dict[str, Any], generation: int, incident: Incident,
          pos: pol.Position, now: datetime, *, last: bool = False,
          policy: pol.Policy | None = None) -> bool:
    """Page one level of the escalation (its `snapshot` and `generation`) and schedule the
    next step, unless `last`: a page to an incident someone already owns, keyed so delivery
    sends it although the incident is not triggered. `policy`: the snapshot's, parsed by
    the caller. Returns whether the policy is exhausted (no step follows)."""
    policy = policy or pol.from_snapshot(snapshot)
    level = policy.levels[pos.level]
    users, nobody = _resolve_users(session, incident, level.targets, pos.loop, now,
                                   turn_of=(int(snapshot.get("policy_id") or 0), pos.level))
    paged: list[int] = []
    key = f"inc{incident.id}:g{generation}:r{pos.loop}:l{pos.level}" \
        + (notify.OWNED_MARK if last else "")
    for uid in users:
        made = notify.page_user(
            session, user_id=uid, incident=incident, now=now, key=key,
            payload={"level": pos.level + 1, "loop": pos.loop})
        if made:
            paged.append(uid)
        else:
            nobody.append(_unreachable(session, uid))
    label = f"level {pos.level + 1}" + (f" (repeat {pos.loop})" if pos.loop else "")
    if paged:
        _event(session, incident, lc.EventKind.ESCALATED, now,
               f"{label} of '{snapshot['name']}': paging user(s) "
               + ", ".join(map(str, paged)),
               {"level": pos.level + 1, "loop": pos.loop, "user_ids": paged,
                "problems": nobody})
    else:
        _event(session, incident, lc.EventKind.NOBODY_PAGED, now,
               f"NO ONE COULD BE PAGED at {label}: " + "; ".join(nobody or ["no targets"]),
               {"level": pos.level + 1, "loop": pos.loop, "problems": nobody})
    nxt = None if last else pol.after(policy, pos)
    if nxt is None:
        return True
    npos, delay = nxt
    timers.schedule(session, kind=TIMER_STEP, key=timer_key(incident.id), now=now,
                    due_at=now + delay, owner=incident,
                    payload={"incident_id": incident.id, "generation": generation,
                             "level": npos.level, "loop": npos.loop})
    return False


def on_step(session: Session, *, payload: dict[str, Any], now: datetime) -> None:
    """Timer handler: fire the step unless it is stale (other generation, or not triggered)."""
    esc = session.scalars(select(Escalation).where(
        Escalation.incident_id == int(payload["incident_id"])).with_for_update()).first()
    if esc is None or esc.generation != int(payload["generation"]):
        return
    if esc.status != EscalationStatus.ACTIVE.value:
        return
    incident = session.get(Incident, esc.incident_id)
    if incident is None or lc.Status(incident.status) is not lc.Status.TRIGGERED:
        return
    pos = pol.Position(int(payload["level"]), int(payload["loop"]))
    if _fire(session, esc.snapshot, esc.generation, incident, pos, now):
        esc.status = EscalationStatus.EXHAUSTED.value
    esc.level, esc.loop, esc.updated_at = pos.level, pos.loop, now


def on_incident_event(session: Session, *, incident: Incident, kind: str,
                      data: dict[str, Any], now: datetime) -> None:
    """React to an entry of the incident's timeline (its kind and data; called from
    incidents/hooks.py)."""
    if kind == lc.EventKind.CREATED.value:
        services = data.get("service_ids")
        start(session, incident=incident, now=now, reason="incident declared",
              services=tuple(services) if services is not None else None)
        return
    if kind == lc.EventKind.STATUS_CHANGED.value:
        target = data.get("to")
        esc = session.scalars(select(Escalation).where(Escalation.incident_id == incident.id)
                              ).first()
        if (target in {s.value for s in lc.OPEN_STATUSES} and esc is not None
              and esc.status == EscalationStatus.ACTIVE.value):
            _halt(session, esc, EscalationStatus.ACKNOWLEDGED, now)
        elif target in (lc.Status.RESOLVED.value, lc.Status.CLOSED.value) and esc is not None \
                and esc.status in (EscalationStatus.ACTIVE.value,
                                   EscalationStatus.EXHAUSTED.value):
            _halt(session, esc, EscalationStatus.CANCELLED, now)
    elif kind == lc.EventKind.REOPENED.value and data.get("to") == lc.Status.TRIGGERED.value:
        # Reacting to `reopened` (not its status change) keeps the reopen entries together.
        start(session, incident=incident, now=now, reason="incident reopened", quiet=True)
    elif kind == lc.EventKind.SEVERITY_CHANGED.value:
        old, new = str(data.get("from")), str(data.get("to"))
        status = lc.Status(incident.status)
        if pol.is_stricter(new, old) and status in lc.OPEN_STATUSES:
            start(session, incident=incident, now=now, reason=f"severity raised to {new}",
                  owned=status is not lc.Status.TRIGGERED)


def escalation_of(session: Session, incident_id: int) -> tuple[Escalation, datetime | None]:
    esc = session.scalars(select(Escalation).where(Escalation.incident_id == incident_id)
                          ).first()
    if esc is None:
        raise NotFound(f"incident INC-{incident_id} has no escalation")
    pending = timers.pending(session, timer_key(incident_id))
    return esc, pending.due_at if pending is not None else None


def page_on_demand(session: Session, *, incident: Incident, data: PageIn, actor_id: int,
                   now: datetime) -> list[int]:
    """Lateral escalation: page users / a team / a schedule's on-call now."""
    targets = [pol.Target(pol.TargetKind.USER, u) for u in data.user_ids]
    if data.team_id is not None:
        if session.get(Team, data.team_id) is None:
            raise Invalid(f"team_id: no team with id {data.team_id}")
        targets.append(pol.Target(pol.TargetKind.TEAM, data.team_id))
    if data.schedule_id is not None:
        if session.get(Schedule, data.schedule_id) is None:
            raise Invalid(f"schedule_id: no schedule with id {data.schedule_id}")
        targets.append(pol.Target(pol.TargetKind.SCHEDULE, data.schedule_id))
    if not targets:
        raise Invalid("name user_ids, a team_id or a schedule_id to page")
    users, nobody = _resolve_users(session, incident, tuple(targets), 0, now)
    stamp = int(now.timestamp() * 1000)
    paged = [u for u in users if notify.page_user(
        session, user_id=u, incident=incident, now=now, key=f"inc{incident.id}{notify.MANUAL_MARK}{stamp}",
        payload={"note": data.note, "by": actor_id})]
    kind = lc.EventKind.ESCALATED if paged else lc.EventKind.NOBODY_PAGED
    _event(session, incident, kind, now,
           ("paged on request: user(s) " + ", ".join(map(str, paged))) if paged
           else "NO ONE COULD BE PAGED on request: " + "; ".join(nobody or ["no contact method"]),
           {"user_ids": paged, "requested_by": actor_id, "note": data.note})
    return paged
