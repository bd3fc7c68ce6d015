"""The stored per-incident summary (`IncidentFact`, one row per incident) the metrics read.

Each row is `measures.Facts` of its incident: the incident's fields when its log was last
read (severity, creation, detection source, start of impact, services, drill) and the log
folded entry by entry with `measures.fold`. Two writers, one reduction:

- `on_incident_event`, an incident hook (wiring.INCIDENT_HOOKS), folds each new entry into
  the row in the transaction that writes the entry, so the row commits with it or not at all;
- `rebuild` recomputes rows from the whole log (`measures.facts_of`, the same fold), for
  incidents that predate the table (`ensure_built`, run before the metrics read it) and for
  `tocsin db rebuild-metrics`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.orm import Session

from tocsin.analytics import measures
from tocsin.analytics.models import IncidentFact
from tocsin.db import rows
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService

# Log entries that can change a row: those the measures read, and field changes (services,
# start of impact, detection source) and closing (which may set the start of impact).
# Any other entry (pages, tasks, ...) reads nothing.
KINDS = frozenset({"created", "closed", "status_changed", "resolved", "reopened", "recurrence",
                   "escalated", "field_changed", *measures.UPDATE_KINDS})
_HELD = "analytics.facts"
BATCH = 5_000


def ids_text(service_ids: Sequence[int]) -> str:
    return " ".join(str(i) for i in sorted(set(service_ids)))


def ids_of(text: str) -> tuple[int, ...]:
    return tuple(int(i) for i in text.split()) if text else ()


def values_of(f: measures.Facts, *, counted: bool) -> dict[str, Any]:
    """The row of `f` (its id as incident_id)."""
    return {"incident_id": f.id, "counted": counted, "severity": f.severity,
            "created_at": f.created_at, "source": f.source,
            "service_ids": ids_text(f.service_ids), "impact_started_at": f.impact_started_at,
            "acknowledged_at": f.acknowledged_at, "first_update_at": f.first_update_at,
            "resolved_at": f.resolved_at, "reopened": f.reopened, "recurred": f.recurred,
            "escalated": f.escalated, "revision": 0}


COLUMNS = (IncidentFact.incident_id, IncidentFact.severity, IncidentFact.created_at,
            IncidentFact.source, IncidentFact.service_ids, IncidentFact.impact_started_at,
            IncidentFact.acknowledged_at, IncidentFact.first_update_at,
            IncidentFact.resolved_at, IncidentFact.reopened, IncidentFact.recurred,
            IncidentFact.escalated)


def facts_of_row(row: Any) -> measures.Facts:
    """The facts of a row read with COLUMNS, in that order."""
    (iid, severity, created_at, source, sids, impact, ack, update, resolved, reopened,
     recurred, escalated) = row
    return measures.Facts(
        id=iid, severity=severity, created_at=created_at, source=source,
        service_ids=ids_of(sids), impact_started_at=impact, acknowledged_at=ack,
        first_update_at=update, resolved_at=resolved, reopened=reopened,
        recurred=bool(recurred), escalated=bool(escalated))


def _refreshed(f: measures.Facts, incident: Incident,
               service_ids: Sequence[int] | None) -> measures.Facts:
    """`f` with the incident's own fields as they are now (the log's reduction kept)."""
    fresh = measures.start(id=incident.id, severity=incident.severity,
                           created_at=incident.created_at, source=incident.detection_source,
                           service_ids=f.service_ids if service_ids is None else service_ids,
                           impact_started_at=incident.impact_started_at)
    return measures.Facts(
        id=fresh.id, severity=fresh.severity, created_at=fresh.created_at, source=fresh.source,
        service_ids=fresh.service_ids, impact_started_at=fresh.impact_started_at,
        acknowledged_at=f.acknowledged_at, first_update_at=f.first_update_at,
        resolved_at=f.resolved_at, reopened=f.reopened, recurred=f.recurred,
        escalated=f.escalated)


def _services_in(kind: str, data: dict[str, Any]) -> list[int] | None:
    """The services an entry sets, if it sets them (declaring, or a field change)."""
    if kind == "created" and "service_ids" in data:
        return list(data["service_ids"])
    moved = data.get("service_ids") if kind == "field_changed" else None
    if isinstance(moved, dict) and "to" in moved:
        return list(moved["to"])
    return None


# What the hook last wrote for an incident: its facts, and while its new row still waits in
# the session's queue, the queued values and the queue's token (rows.add_changeable).
_Held = tuple[measures.Facts, dict[str, Any] | None, object]


def _held(session: Session) -> dict[int, _Held]:
    """The facts this hook last wrote, per incident, valid only within the innermost
    transaction they were written in: a SAVEPOINT begun or rolled back, or a new
    transaction, starts afresh (the row is read again)."""
    current = session.get_nested_transaction() or session.get_transaction()
    found: tuple[Any, dict[int, _Held]] | None = session.info.get(_HELD)
    if found is None or found[0] is not current:
        found = (current, {})
        session.info[_HELD] = found
    return found[1]


def on_incident_event(session: Session, *, incident: Incident, kind: str,
                      data: dict[str, Any], now: datetime) -> None:
    """Incident hook: fold the entry just written (at `now`) into the incident's row.

    The row of a new incident is a queued plain row (written with the batch's other rows,
    no ORM object); a later entry changes the queued values while the row still waits, or
    else writes the columns it changed with one UPDATE (no statement mid-batch).
    The facts last written are held for the (innermost) transaction, so entries that follow
    in it read nothing; otherwise the row is read by its key. This hook runs first
    (wiring.INCIDENT_HOOKS): entries other hooks write while reacting to this one come
    after it, in the log and here."""
    if kind not in KINDS:
        return
    held = _held(session)
    kept = held.get(incident.id)
    before, queued, token = kept if kept is not None else (None, None, None)
    if before is None and kind != "created":
        found = session.execute(select(*COLUMNS).where(
            IncidentFact.incident_id == incident.id)).first()
        if found is None:  # an incident older than the table: read its whole log once
            rebuild(session, incident_ids=[incident.id])
            found = session.execute(select(*COLUMNS).where(
                IncidentFact.incident_id == incident.id)).first()
            if found is not None:
                held[incident.id] = (facts_of_row(found), None, None)
            return
        before = facts_of_row(found)
    if before is None:
        f = measures.start(id=incident.id, severity=incident.severity,
                           created_at=incident.created_at, source=incident.detection_source,
                           service_ids=_services_in(kind, data) or (),
                           impact_started_at=incident.impact_started_at)
    else:
        f = _refreshed(before, incident, _services_in(kind, data))
    f = measures.fold(f, measures.Event(now, kind, data))
    values = values_of(f, counted=not incident.drill)
    if before is None:
        queued, token = rows.add_changeable(session, IncidentFact, **values)
        held[incident.id] = (f, queued, token)
        return
    if queued is not None and rows.still_queued(session, token):
        queued.update(values)  # not written yet: the row goes out as it is now
        held[incident.id] = (f, queued, token)
        return
    held[incident.id] = (f, None, None)
    old = values_of(before, counted=not incident.drill)
    changed: dict[str, Any] = {k: v for k, v in values.items() if old[k] != v}
    if changed:
        session.execute(update(IncidentFact).where(IncidentFact.incident_id == incident.id)
                        .values(**changed, revision=IncidentFact.revision + 1))


def rebuild(session: Session, *, incident_ids: list[int] | None = None) -> int:
    """Recompute the rows of `incident_ids` (all incidents when None) from their logs, in
    batches of BATCH incidents; returns how many rows were written."""
    if incident_ids is None:
        session.execute(delete(IncidentFact))
        ids = list(session.scalars(select(Incident.id).order_by(Incident.id)))
    else:
        ids = sorted(set(incident_ids))
        session.execute(delete(IncidentFact).where(IncidentFact.incident_id.in_(ids)))
    made = 0
    for i in range(0, len(ids), BATCH):
        part = ids[i:i + BATCH]
        lo, hi = part[0], part[-1]
        values = [values_of(f, counted=counted)
                  for f, counted in facts_from_log(session, lo, hi, set(part))]
        if values:
            session.execute(insert(IncidentFact), values)
        made += len(values)
    return made


def facts_from_log(session: Session, lo: int, hi: int, wanted: set[int]
                   ) -> list[tuple[measures.Facts, bool]]:
    """(facts, counted) of the incidents in `wanted` (ids between `lo` and `hi`), from
    their rows, services and logs: three range reads."""
    services: dict[int, list[int]] = defaultdict(list)
    for iid, sid in session.execute(
            select(IncidentService.incident_id, IncidentService.service_id)
            .where(IncidentService.incident_id.between(lo, hi))):
        services[iid].append(sid)
    events: dict[int, list[measures.Event]] = defaultdict(list)
    for iid, at, kind, data in session.execute(
            select(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.kind,
                   IncidentEvent.data)
            .where(IncidentEvent.incident_id.between(lo, hi),
                   IncidentEvent.kind.in_(sorted(KINDS)))
            .order_by(IncidentEvent.incident_id, IncidentEvent.id)):
        events[iid].append(measures.Event(at, kind, data or {}))
    out = []
    for r in session.execute(
            select(Incident.id, Incident.severity, Incident.created_at,
                   Incident.detection_source, Incident.impact_started_at, Incident.drill)
            .where(Incident.id.between(lo, hi))):
        if r.id not in wanted:
            continue
        out.append((measures.facts_of(
            id=r.id, severity=r.severity, created_at=r.created_at, source=r.detection_source,
            events=events.get(r.id, []), service_ids=services.get(r.id, ()),
            impact_started_at=r.impact_started_at), not r.drill))
    return out


def ensure_built(session: Session) -> None:
    """Build every row when the table is empty while incidents exist (the first read after
    the migration that made it); two one-row look-ups otherwise."""
    if session.scalar(select(exists().select_from(IncidentFact))):
        return
    if not session.scalar(select(exists().select_from(Incident))):
        return
    rebuild(session)
    session.commit()
