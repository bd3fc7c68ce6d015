"""Loads the people, teams and on-call facts `reach.py` decides over, and answers "who cannot
be paged" for a policy, a service or a schedule (the `paging_problems` of their pages and API
responses). One load per request: a self-hosted install has tens of users, not millions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts.models import Team, TeamMember, User
from tocsin.escalation import policy as pol
from tocsin.escalation import reach
from tocsin.escalation.models import EscalationPolicy, ServicePolicy
from tocsin.incidents import lifecycle as lc
from tocsin.incidents.models import Incident, IncidentEvent
from tocsin.notify.models import ContactMethod
from tocsin.schedules import service as schedules
from tocsin.schedules.models import Schedule

MUST_PAGE = [s.value for s in lc.Severity if s.is_high_urgency()]
# Gaps named in a schedule's paging problems: the coming week (`warnings` looks further).
GAP_HORIZON = timedelta(days=7)


def load_people(session: Session, *, now: datetime,
                schedule_ids: set[int] | None = None) -> reach.People:
    """`schedule_ids`: only these schedules' on-call (None: all of them)."""
    users = session.execute(select(User.id, User.name, User.active)).all()
    verified = session.scalars(select(ContactMethod.user_id).where(
        ContactMethod.verified_at.is_not(None)))
    members: dict[int, list[int]] = {}
    for team_id, user_id in session.execute(
            select(TeamMember.team_id, TeamMember.user_id).order_by(TeamMember.user_id)):
        members.setdefault(team_id, []).append(user_id)
    all_schedules = [s for s in schedules.list_schedules(session)
                     if schedule_ids is None or s.id in schedule_ids]
    on_call = schedules.on_call(session, schedules=all_schedules, at=now)
    return reach.People(
        user_names={u.id: u.name for u in users},
        active=frozenset(u.id for u in users if u.active), verified=frozenset(verified),
        team_names={tid: name for tid, name in session.execute(select(Team.id, Team.name))},
        team_members=members,
        schedule_names={s.id: s.name for s in all_schedules},
        on_call_now={sid: (shift.user_id if shift is not None else None)
                     for sid, shift in on_call.items()})


def _parsed(row: EscalationPolicy) -> pol.Policy:
    return pol.from_snapshot({"repeat": row.repeat, "levels": row.levels})


def policy_problems(row: EscalationPolicy, people: reach.People) -> list[str]:
    return reach.policy_problems(_parsed(row), people)


def service_problems(session: Session, service_ids: list[int],
                     people: reach.People) -> dict[int, list[str]]:
    rows = session.execute(
        select(ServicePolicy.service_id, ServicePolicy.severity, EscalationPolicy)
        .join(EscalationPolicy, EscalationPolicy.id == ServicePolicy.policy_id)
        .where(ServicePolicy.service_id.in_(service_ids))).all()
    per_service: dict[int, dict[str, tuple[str, pol.Policy]]] = {s: {} for s in service_ids}
    for service_id, severity, policy in rows:
        per_service[service_id][severity] = (policy.name, _parsed(policy))
    return {sid: reach.service_problems(policies, MUST_PAGE, people)
            for sid, policies in per_service.items()}


def schedule_problems(session: Session, schedule: Schedule, people: reach.People,
                      *, now: datetime) -> list[str]:
    members = {u for layer in schedules.layers_of(schedule) for u in layer.participants}
    members |= {o.user_id for o in schedules.overrides_of(session, [schedule.id],
                                                          start=now)[schedule.id]}
    gaps: list[tuple[datetime, datetime]] = []
    if schedule.layers:  # without layers, `warnings` already says nobody is ever on call
        result, _ = schedules.shifts(session, schedule=schedule, start=now,
                                     end=now + GAP_HORIZON)
        gaps = [(g.start, g.end) for g in result.gaps]
    return reach.schedule_problems(schedule.id, members, people, gaps=gaps,
                                   time_zone=schedule.time_zone)


_PAGING = [lc.EventKind.ESCALATION_STARTED.value, lc.EventKind.ESCALATED.value,
           lc.EventKind.NOBODY_PAGED.value, lc.EventKind.ESCALATION_SKIPPED.value]


def nobody_paged(session: Session, incidents: list[Incident]) -> dict[int, list[str]]:
    """The still-triggered incidents whose latest paging step reached nobody (or that had no
    policy to page with), each with the reasons in words: nobody knows about these but the
    person looking at the screen. An acknowledged incident has an owner, so it is left out."""
    triggered = [i.id for i in incidents if i.status == lc.Status.TRIGGERED.value]
    if not triggered:
        return {}
    latest: dict[int, IncidentEvent] = {}
    for event in session.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id.in_(triggered), IncidentEvent.kind.in_(_PAGING))
            .order_by(IncidentEvent.id)):
        latest[event.incident_id] = event
    out: dict[int, list[str]] = {}
    for incident_id, event in latest.items():
        if event.kind == lc.EventKind.NOBODY_PAGED.value:
            words = [str(p) for p in event.data.get("problems") or []]
            out[incident_id] = words or [event.body]
        elif event.kind == lc.EventKind.ESCALATION_SKIPPED.value:
            out[incident_id] = [event.body]
    return out


def problems_of_services(session: Session, service_ids: list[int], *,
                         now: datetime) -> dict[int, list[str]]:
    """Why paging for each service would reach nobody (catalog's API shows it; it cannot
    import escalation, so tocsin/app.py hands it this function)."""
    return service_problems(session, service_ids, load_people(session, now=now))


def problems_of_schedules(session: Session, *, now: datetime) -> Callable[[Schedule], list[str]]:
    """Why each schedule's on-call would reach nobody: people loaded once, then asked per
    schedule (the schedules API shows it, through tocsin/app.py)."""
    people = load_people(session, now=now)
    return lambda schedule: schedule_problems(session, schedule, people, now=now)
