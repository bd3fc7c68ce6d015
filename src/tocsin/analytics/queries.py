"""The database reads behind the metrics: incidents reduced to facts, and pages sent.

Everything the metrics count passes through `counted_incident`, the one place that says
which incidents are left out.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, select
from sqlalchemy.orm import Session

from tocsin.accounts.models import Team, TeamMember, User
from tocsin.analytics import measures
from tocsin.analytics.oncall_health import PageSent, Person
from tocsin.catalog.models import Service
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService, not_drill
from tocsin.incidents.visibility import visible_incident
from tocsin.notify.models import ContactMethod, Message
from tocsin.principal import Principal, Role

# The log entries the measures read (measures.facts_of); the rest of the log is skipped.
KINDS = sorted({"status_changed", "resolved", "reopened", "recurrence", "escalated",
                *measures.UPDATE_KINDS})


def counted_incident() -> ColumnElement[bool]:
    """Condition on `Incident`: the metrics count it. THE place where drills and merged
    duplicates are left out of every figure (incident metrics, targets, on-call pages, the
    digest, Prometheus and the benchmark's check all read through here).

    Drills are marked on the incident (`incidents.models.not_drill`, set by drills/). Tocsin
    has no incident merge yet (duplicate alerts are folded into one incident by triage's
    dedup and grouping before an incident exists); a merge marker goes here too."""
    return not_drill()


def _team_of_services(session: Session) -> dict[int, int | None]:
    return dict(session.execute(select(Service.id, Service.owner_team_id)).all())


@dataclass
class _Cached:
    version: tuple[datetime, int | None]
    service_ids: tuple[int, ...]
    facts: measures.Facts  # without teams and visibility, which are added per request


@dataclass
class _FactsCache:
    """One database's incidents reduced to facts, each kept with the incident's version:
    its `updated_at` and the id of its last log entry. Every change to an incident (its log,
    its services, its fields) goes through incidents.service.append_event, which adds an
    entry (a new, higher id) and moves `updated_at`, so an entry whose version still matches
    is still right, and only changed incidents are read again. (The id, not the time alone:
    two changes can carry the same time.)"""

    lock: threading.Lock = field(default_factory=threading.Lock)
    entries: dict[int, _Cached] = field(default_factory=dict)


# Per engine (a runtime's database), dropped with it; a process serving one database has one.
_CACHES: weakref.WeakKeyDictionary[Engine, _FactsCache] = weakref.WeakKeyDictionary()


def _cache_of(session: Session) -> _FactsCache:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _CACHE_LOCK:
        return _CACHES.setdefault(engine, _FactsCache())


_CACHE_LOCK = threading.Lock()


def load_facts(session: Session, *, since: datetime | None, until: datetime | None,
               viewer: Principal, severities: list[str] | None = None,
               service_id: int | None = None, team_id: int | None = None,
               incident_ids: list[int] | None = None) -> list[measures.Facts]:
    """Facts of the counted incidents created in [since, until) (or those of
    `incident_ids`). Each carries whether `viewer` may see it; figures count every incident,
    lists show only visible ones.

    One statement reads the chosen incidents' rows (with `updated_at` and the viewer's
    visibility); the log and services are read only for incidents new to the cache or
    changed since, joined to that selection (no id lists): two more statements, reading
    of a log entry only its kind, time and, for a status change, the status it went to."""
    chosen = select(Incident.id).where(counted_incident())
    if incident_ids is not None:
        chosen = chosen.where(Incident.id.in_(incident_ids))
    else:
        if since is None or until is None:
            raise ValueError("a window [since, until) or incident ids")
        chosen = chosen.where(Incident.created_at >= since, Incident.created_at < until)
    if severities:
        chosen = chosen.where(Incident.severity.in_(severities))
    rows = session.execute(
        select(Incident.id, Incident.severity, Incident.created_at, Incident.detection_source,
               Incident.impact_started_at, Incident.updated_at, _LAST_ENTRY,
               visible_incident(viewer).label("visible"))
        .where(Incident.id.in_(chosen.scalar_subquery())).order_by(Incident.id)).all()
    cache = _cache_of(session)
    with cache.lock:
        stale = [r for r in rows if (c := cache.entries.get(r.id)) is None
                 or c.version != (r.updated_at, r.last_entry)]
    if stale:
        fresh = _reduce(session, chosen, stale, all_rows=len(stale) == len(rows))
        with cache.lock:
            cache.entries.update(fresh)
    teams = _team_of_services(session)
    out = []
    with cache.lock:
        entries = cache.entries
        for r in rows:
            c = entries[r.id]
            if service_id is not None and service_id not in c.service_ids:
                continue
            tids = tuple(sorted({t for s in c.service_ids if (t := teams.get(s)) is not None}))
            if team_id is not None and team_id not in tids:
                continue
            out.append(replace(c.facts, team_ids=tids, visible=bool(r.visible)))
    return out


# The id of an incident's last log entry: an index look-up (incident_id, id) per incident.
_LAST_ENTRY = (select(func.max(IncidentEvent.id)).where(IncidentEvent.incident_id == Incident.id)
               .correlate(Incident).scalar_subquery().label("last_entry"))


def _reduce(session: Session, chosen: Select[Any], stale: list[Any], *,
            all_rows: bool) -> dict[int, _Cached]:
    """Facts of the `stale` rows. When they are all of `chosen`, their log and services are
    read joined to `chosen`; otherwise to the stale ids themselves."""
    ids = (chosen.scalar_subquery() if all_rows else
           select(Incident.id).where(Incident.id.in_([r.id for r in stale])).scalar_subquery())
    services: dict[int, list[int]] = defaultdict(list)
    for iid, sid in session.execute(
            select(IncidentService.incident_id, IncidentService.service_id)
            .where(IncidentService.incident_id.in_(ids))
            .order_by(IncidentService.incident_id, IncidentService.service_id)):
        services[iid].append(sid)
    events: dict[int, list[measures.Event]] = defaultdict(list)
    moved_to = IncidentEvent.data["to"].as_string()
    for iid, at, kind, to in session.execute(
            select(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.kind, moved_to)
            .where(IncidentEvent.incident_id.in_(ids), IncidentEvent.kind.in_(KINDS))
            .order_by(IncidentEvent.incident_id, IncidentEvent.id)):
        events[iid].append(measures.Event(at, kind, {"to": to} if to is not None else {}))
    out = {}
    for r in stale:
        sids = tuple(services.get(r.id, ()))
        out[r.id] = _Cached((r.updated_at, r.last_entry), sids, measures.facts_of(
            id=r.id, severity=r.severity, created_at=r.created_at, source=r.detection_source,
            events=events.get(r.id, []), service_ids=sids,
            impact_started_at=r.impact_started_at))
    return out


def load_pages(session: Session, *, since: datetime, until: datetime,
               user_ids: list[int] | None = None) -> list[PageSent]:
    """Page messages sent in [since, until) for counted incidents."""
    q = (select(Message.user_id, Message.incident_id, Message.sent_at, ContactMethod.kind)
         .join(ContactMethod, ContactMethod.id == Message.contact_method_id)
         .join(Incident, Incident.id == Message.incident_id)
         .where(Message.kind == "page", Message.status == "sent",
                Message.sent_at >= since, Message.sent_at < until, counted_incident()))
    if user_ids is not None:
        q = q.where(Message.user_id.in_(user_ids))
    # Pages are to people: a message with no user is a subscriber's (statuspages/).
    return [PageSent(uid, iid, at, kind) for uid, iid, at, kind in session.execute(q)
            if at is not None and uid is not None]


def people(session: Session, user_ids: list[int] | None = None) -> list[Person]:
    q = select(User.id, User.name, User.time_zone).where(User.active.is_(True))
    if user_ids is not None:
        q = q.where(User.id.in_(user_ids))
    return [Person(i, n, z) for i, n, z in session.execute(q.order_by(User.name, User.id))]


def names(session: Session, dimension: str) -> dict[int, str]:
    if dimension == "service":
        return dict(session.execute(select(Service.id, Service.name)).all())
    if dimension == "team":
        return dict(session.execute(select(Team.id, Team.name)).all())
    return {}


def team_member_ids(session: Session, team_id: int) -> list[int]:
    return list(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team_id)))


def teams(session: Session) -> list[tuple[int, str]]:
    return [(i, n) for i, n in session.execute(select(Team.id, Team.name).order_by(Team.name))]


def role_of(session: Session, user_id: int) -> Role:
    return Role(session.scalar(select(User.role).where(User.id == user_id)) or Role.VIEWER)


def outbox_has(session: Session, key_prefix: str) -> bool:
    """A message whose idempotency key starts with `key_prefix` was written (any status)."""
    return session.scalar(select(Message.id).where(
        Message.idempotency_key.like(key_prefix + "%")).limit(1)) is not None
