"""The database reads behind the metrics: incidents reduced to facts, and pages sent.

Everything the metrics count passes through `counted_incident`, the one place that says
which incidents are left out.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Engine, Table, literal_column, select
from sqlalchemy.orm import Session

from tocsin.accounts.models import Team, TeamMember, User
from tocsin.analytics import collector, measures, summary
from tocsin.analytics.models import IncidentFact
from tocsin.analytics.oncall_health import PageSent, Person
from tocsin.catalog.models import Service
from tocsin.incidents.models import Incident, not_drill
from tocsin.incidents.visibility import visible_incident
from tocsin.notify.models import ContactMethod, Message
from tocsin.principal import Principal, Role


def counted_incident() -> ColumnElement[bool]:
    """Condition on `Incident`: the metrics count it. THE place where drills and merged
    duplicates are left out of every figure (incident metrics, targets, on-call pages, the
    digest, Prometheus and the benchmark's check all read through here).

    Drills are marked on the incident (`incidents.models.not_drill`, set by drills/). Tocsin
    has no incident merge yet (duplicate alerts are folded into one incident by triage's
    dedup and grouping before an incident exists); a merge marker goes here too. The stored
    summary (summary.py) carries the same decision as `IncidentFact.counted`."""
    return not_drill()


def _team_of_services(session: Session) -> dict[int, int | None]:
    return {sid: tid for sid, tid in session.execute(select(Service.id, Service.owner_team_id))}


@dataclass
class _Cache:
    """One database's facts as last read, per incident with its row's revision, team ids
    already set for `teams` (the service -> team map they were set with)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    teams: dict[int, int | None] = field(default_factory=dict)
    # Two maps with the same keys (a window is checked and gathered with one built-in pass
    # over each, no Python statement per incident when nothing changed).
    revisions: dict[int, int] = field(default_factory=dict)
    facts: dict[int, measures.Facts] = field(default_factory=dict)


# Per engine (a runtime's database), dropped with it.
_CACHES: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()
_CHUNK = 500


def _cache_of(session: Session) -> _Cache:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with _CACHES_LOCK:
        return _CACHES.setdefault(engine, _Cache())


def forget(session: Session) -> None:
    """Drop this database's cached facts (after a rebuild of the stored summary)."""
    with _CACHES_LOCK:
        _CACHES.pop(session.get_bind(), None)  # type: ignore[arg-type]


@collector.paused()
def load_facts(session: Session, *, since: datetime | None, until: datetime | None,
               viewer: Principal, severities: list[str] | None = None,
               service_id: int | None = None, team_id: int | None = None,
               incident_ids: list[int] | None = None) -> list[measures.Facts]:
    """Facts of the counted incidents created in [since, until) (or those of
    `incident_ids`), in order of creation, from the stored summary (summary.py: one row per
    incident, kept current with its log). Each carries whether `viewer` may see it; figures
    count every incident, lists show only visible ones.

    First the window's (id, revision) pairs, read from the (counted, created_at, revision)
    index alone; then whole rows only for incidents new to this process's cache or changed
    since (a higher revision). For a viewer who is not an admin, one more statement reads
    which restricted incidents of the window they may not see."""
    summary.ensure_built(session)
    # (Table columns, not the mapped class's: Core statements, whose rows skip the ORM's
    # per-row loading - the largest cost of reading a window of many thousand rows.)
    table = IncidentFact.__table__.c
    where: list[ColumnElement[bool]] = [table.counted.is_(True)]
    if incident_ids is not None:
        where.append(table.incident_id.in_(incident_ids))
    else:
        if since is None or until is None:
            raise ValueError("a window [since, until) or incident ids")
        where += [table.created_at >= since, table.created_at < until]
    if severities:
        where.append(table.severity.in_(severities))
    teams = _team_of_services(session)
    # In order of creation, what the figures read fastest (a period is a slice, gaps are in
    # order already), even after an import numbered old history after newer incidents. Ties
    # by revision, then id: the index's own order (SQLite keeps the id, the rowid, in every
    # index), so the database reads it in order and sorts nothing.
    versions = session.execute(
        select(table.incident_id, table.revision).where(*where)
        .order_by(table.created_at, table.revision, table.incident_id)).all()
    ids: list[int] = [v[0] for v in versions]
    cache = _cache_of(session)
    with cache.lock:
        if cache.teams != teams:
            cache.teams, cache.revisions, cache.facts = teams, {}, {}
        # (This map as it is now: a reset by another request replaces it, never empties it.)
        cached = cache.facts
        known = list(map(cache.revisions.get, ids))
        if known == [v[1] for v in versions]:  # nothing new or changed: the usual case
            window = list(map(cached.__getitem__, ids))
            stale = []
        else:
            stale = [iid for iid, rev in versions if cache.revisions.get(iid) != rev]
    if stale:
        fresh = _read(session, where if len(stale) * 2 > len(versions) else None, stale,
                      teams)
        with cache.lock:
            if cache.facts is cached:
                for iid, (rev, f) in fresh.items():
                    cache.revisions[iid], cache.facts[iid] = rev, f
        window = [fresh[iid][1] if iid in fresh else cached[iid] for iid in ids]
    hidden: set[int] = set()
    if not viewer.is_admin:
        # (NULL, not false, when a role is unassigned: hidden unless true)
        hidden = {iid for iid, visible in session.execute(
            select(IncidentFact.incident_id, visible_incident(viewer))
            .join(Incident, Incident.id == IncidentFact.incident_id)
            .where(*where, Incident.restricted.is_(True))) if not visible}
    if service_id is None and team_id is None and not hidden:
        return window
    out = []
    for f in window:
        iid = f.id
        if service_id is not None and service_id not in f.service_ids:
            continue
        if team_id is not None and team_id not in f.team_ids:
            continue
        out.append(replace(f, visible=False) if iid in hidden else f)
    return out


def _read(session: Session, where: list[ColumnElement[bool]] | None, ids: list[int],
          teams: dict[int, int | None]) -> dict[int, tuple[int, measures.Facts]]:
    """Whole rows: the window's (`where`) when most of it is needed, else `ids` in chunks."""
    statements = ([select(*summary.COLUMNS, IncidentFact.revision).where(*where)]
                  if where is not None else
                  [select(*summary.COLUMNS, IncidentFact.revision)
                   .where(IncidentFact.incident_id.in_(ids[i:i + _CHUNK]))
                   for i in range(0, len(ids), _CHUNK)])
    out = {}
    team_ids: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    new = measures.Facts
    for statement in statements:
        for (iid, severity, created_at, source, sids_text, impact, ack, update, resolved,
             reopened, recurred, escalated, rev) in session.execute(statement):
            known = team_ids.get(sids_text)
            if known is None:
                sids = tuple(i for i in summary.ids_of(sids_text) if i in teams)
                known = team_ids[sids_text] = (sids, tuple(sorted(
                    {t for s in sids if (t := teams[s]) is not None})))
            out[iid] = (rev, new(iid, severity, created_at, source, known[0], known[1],
                                 impact, ack, update, resolved, reopened, bool(recurred),
                                 bool(escalated)))
    return out


@collector.paused()
def load_pages(session: Session, *, since: datetime, until: datetime,
               user_ids: list[int] | None = None) -> list[PageSent]:
    """Page messages sent in [since, until) for counted incidents, in time order.

    Read from the partial index of pages (ix_messages_pages_sent), whose condition the WHERE
    repeats with a literal; the channels come from one small read of contact methods.
    Incidents left out are those the stored summary marks not counted (the same decision
    as `counted_incident`, see there): a list read from the summary's index, not a look-up
    of each page's incident row (which took most of this read's time)."""
    summary.ensure_built(session)
    left_out = select(IncidentFact.incident_id).where(IncidentFact.counted.is_(False))
    m = _MESSAGES.c  # the table's columns: rows come back as they are, no ORM loading
    q = (select(m.user_id, m.incident_id, m.sent_at, m.contact_method_id)
         .where(m.kind == literal_column("'page'"), m.status == "sent",
                m.sent_at >= since, m.sent_at < until, m.user_id.is_not(None),
                m.incident_id.is_not(None), m.incident_id.not_in(left_out))
         .order_by(m.sent_at, m.user_id))  # collapse's order: sorts no more
    if user_ids is not None:
        q = q.where(m.user_id.in_(user_ids))
    found = session.connection().execute(q).all()  # Core: no ORM row loading
    kinds = dict(session.execute(select(ContactMethod.id, ContactMethod.kind).where(
        ContactMethod.id.in_({r[3] for r in found}))).all()) if found else {}
    # Pages are to people: a message with no user is a subscriber's (statuspages/); a
    # message whose contact method is gone has no channel to count (as the join had it).
    return [PageSent(uid, iid, at, kind) for uid, iid, at, method in found
            if (kind := kinds.get(method)) is not None]


_MESSAGES = cast(Table, Message.__table__)


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
