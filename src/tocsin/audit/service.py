"""Recording, reading, verifying and expiring the audit log.

Changes of configuration and access are recorded by one session hook (`install`), not by
each feature: after every flush it writes an entry per inserted, updated or deleted row of
the AUDITED tables, with the values before and after (secrets redacted) and the actor the
request named on the session (`db/actor.py`). Sign-ins and views of restricted incidents
are recorded by their callers with `record`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, delete, insert, inspect, select, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.state import InstanceState

from tocsin.audit import chain
from tocsin.audit.models import AuditEntry
from tocsin.db.actor import Actor, actor_of
from tocsin.db.config_cache import CONFIG_TABLES
from tocsin.db.session import READ_ONLY
from tocsin.incidents.hooks import RestrictedViewHook
from tocsin.incidents.models import Incident
from tocsin.runtime import Runtime

# Configuration (what db/config_cache.py watches) plus access: keys, team roles, sign-in
# identities, second factors, and the parts of configuration not cached for triage.
AUDITED = CONFIG_TABLES | frozenset({
    "api_keys", "schedules", "schedule_layers", "sso_identities", "totp_credentials",
    "security_clocks",
    # the other features' configuration: status pages, stakeholder lists and templates,
    # response roles, chat mappings, response targets, runbooks, drill scenarios
    "status_pages", "status_components", "status_component_services",
    "stakeholder_templates", "distribution_lists", "response_roles",
    "chat_channel_maps", "chat_user_links", "response_targets", "runbooks",
    "runbook_services", "drill_scenarios",
})
REDACTED = "[redacted]"
_SECRET = re.compile(r"password|secret|token|hash|(^|_)key$|recovery", re.IGNORECASE)
_TABLE = cast(Table, AuditEntry.__table__)
# Serialises appends on PostgreSQL (SQLite has one writer anyway): two transactions must not
# both link to the same last entry.
_PG_LOCK = text("SELECT pg_advisory_xact_lock(727319)")


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def redact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if _SECRET.search(k) and v not in (None, "") else _jsonable(v))
            for k, v in values.items()}


def _last_hash(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_PG_LOCK)
    found = session.connection().execute(
        select(_TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)).scalar()
    return found or chain.GENESIS


def _append(session: Session, entries: list[dict[str, Any]]) -> None:
    """Write `entries` linked to the chain, through the connection: this also runs inside
    a flush, where the ORM may not add objects."""
    if not entries:
        return
    conn = session.connection()
    prev = _last_hash(session)
    next_id = (conn.execute(select(_TABLE.c.id).order_by(_TABLE.c.id.desc()).limit(1))
               .scalar() or 0) + 1
    rows = []
    for entry in entries:
        row = {"before": None, "after": None, "detail": "", "target_id": "", **entry,
               "id": next_id, "prev_hash": prev}
        row["hash"] = prev = chain.digest(row["prev_hash"], row)
        rows.append(row)
        next_id += 1
    conn.execute(insert(_TABLE), rows)


def record(session: Session, *, action: str, target: str, now: datetime,
           target_id: str | int = "", detail: str = "", actor: Actor | None = None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    """Append one entry in the caller's transaction (a sign-in, a refusal, a view)."""
    who = actor or actor_of(session)
    _append(session, [{"at": now, "actor_id": who.user_id, "actor": who.label[:320],
                       "source": who.source[:64], "action": action, "target": target,
                       "target_id": str(target_id)[:64], "detail": detail[:1000],
                       "before": redact(before) if before else None,
                       "after": redact(after) if after else None}])


# ---- the session hook ---------------------------------------------------------------------

def _values(state: InstanceState[Any]) -> dict[str, Any]:
    return {attr.key: state.attrs[attr.key].loaded_value
            for attr in state.mapper.column_attrs
            if state.attrs[attr.key].loaded_value is not NO_VALUE}


def _changes(state: InstanceState[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.has_changes():
            before[attr.key] = history.deleted[0] if history.deleted else None
            after[attr.key] = history.added[0] if history.added else None
    return before, after


def _identity(state: InstanceState[Any]) -> str:
    key = state.identity
    if key is None:
        key = tuple(state.attrs[c.key].loaded_value for c in state.mapper.primary_key
                    if c.key is not None)
    return "/".join(str(k) for k in key)


def _table(state: InstanceState[Any]) -> str:
    return str(getattr(state.mapper.local_table, "name", ""))


def _entries_of_flush(session: Session, now: datetime) -> list[dict[str, Any]]:
    who = actor_of(session)
    base = {"at": now, "actor_id": who.user_id, "actor": who.label[:320],
            "source": who.source[:64]}
    out: list[dict[str, Any]] = []
    for action, objects in (("created", session.new), ("updated", session.dirty),
                            ("deleted", session.deleted)):
        for obj in objects:
            state = inspect(obj)
            if _table(state) not in AUDITED:
                continue
            if action == "created":
                before, after = None, redact(_values(state))
            elif action == "deleted":
                before, after = redact(_values(state)), None
            else:
                old, new = _changes(state)
                if not new:
                    continue
                before, after = redact(old), redact(new)
            out.append({**base, "action": action, "target": _table(state),
                        "target_id": _identity(state)[:64], "before": before, "after": after})
    return out


def install(factory: sessionmaker[Session], now: Callable[[], datetime]) -> None:
    """Make `factory`'s sessions record every change of an AUDITED table (wiring.py)."""
    from sqlalchemy import event

    def before_flush(session: Session, _context: Any, _instances: Any) -> None:
        # Updated and deleted rows' values are read before the flush writes them; inserted
        # rows' values (their ids) only after, so those are collected in after_flush.
        session.info["tocsin.audit.pending"] = [
            e for e in _entries_of_flush(session, now()) if e["action"] != "created"]

    def after_flush(session: Session, _context: Any) -> None:
        pending = session.info.pop("tocsin.audit.pending", [])
        created = [e for e in _entries_of_flush(session, now()) if e["action"] == "created"]
        _append(session, [*pending, *created])

    def bulk(state: ORMExecuteState) -> None:
        if not (state.is_update or state.is_delete or state.is_insert):
            return
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name in AUDITED:
            who = actor_of(state.session)
            kind = "bulk_update" if state.is_update else (
                "bulk_delete" if state.is_delete else "bulk_insert")
            params = state.parameters if isinstance(state.parameters, dict) else {}
            _append(state.session, [{
                "at": now(), "actor_id": who.user_id, "actor": who.label[:320],
                "source": who.source[:64], "action": kind, "target": str(name),
                "after": redact(dict(params)) or None,
                "detail": _statement_text(state, kind, str(name))[:1000]}])

    event.listen(factory, "before_flush", before_flush)
    event.listen(factory, "after_flush", after_flush)
    event.listen(factory, "do_orm_execute", bulk)


def _statement_text(state: ORMExecuteState, kind: str, table: str) -> str:
    """The statement as SQL; an ORM bulk insert (`insert(Model)` with a list of rows) cannot
    be printed outside its execution (SQLAlchemy raises), so it is named and counted."""
    rows = len(state.parameters) if isinstance(state.parameters, list) else None
    try:
        text = str(state.statement)
    except Exception:
        text = f"{kind.replace('_', ' ')} into {table}"
    return text if rows is None else f"{text} ({rows} rows)"


# ---- reading ------------------------------------------------------------------------------

def list_entries(session: Session, *, after_id: int | None, limit: int,
                 actor_id: int | None = None, action: str | None = None,
                 target: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> list[AuditEntry]:
    """Newest first; `after_id` continues below that id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if after_id is not None:
        query = query.where(AuditEntry.id < after_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if target:
        query = query.where(AuditEntry.target == target)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return list(session.scalars(query))


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in (*chain.FIELDS, "prev_hash", "hash")}


def iter_all(session: Session, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every entry, oldest first, as plain values."""
    after = 0
    while True:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.id > after)
                                    .order_by(AuditEntry.id).limit(batch)))
        if not rows:
            return
        for row in rows:
            yield as_dict(row)
        after = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> tuple[int, chain.Break | None]:
    """How many entries were checked, and the first broken link (None: the chain holds)."""
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for entry in iter_all(session):
            count += 1
            yield entry

    broken = chain.first_break(counted())
    return count, broken


def expire(session: Session, *, now: datetime, keep_days: int) -> int:
    """Delete entries older than the retention, oldest first; the remaining chain still
    verifies, starting at its oldest entry's prev_hash."""
    result = session.connection().execute(
        delete(_TABLE).where(_TABLE.c.at < now - timedelta(days=keep_days)))
    return int(getattr(result, "rowcount", 0) or 0)


# The incident page refreshes itself every few seconds: one entry per person and incident
# per this long, not one per refresh.
VIEW_EVERY = timedelta(minutes=10)


def _seen_lately(session: Session, who: Actor, incident_id: int, now: datetime) -> bool:
    found = session.scalars(select(AuditEntry.id).where(
        AuditEntry.action == "viewed_restricted", AuditEntry.target == "incidents",
        AuditEntry.target_id == str(incident_id), AuditEntry.at > now - VIEW_EVERY,
        AuditEntry.actor_id.is_(None) if who.user_id is None
        else AuditEntry.actor_id == who.user_id).limit(1)).first()
    return found is not None


def restricted_view_hook(runtime: Runtime) -> RestrictedViewHook:
    """Record each read of a restricted incident: in the reader's transaction when it
    writes anyway, else in a short transaction of its own (reads use read-only sessions)."""

    def hook(session: Session, *, incident: Incident) -> None:
        now = runtime.clock.now()
        who = actor_of(session)
        if _seen_lately(session, who, incident.id, now):
            return
        kwargs: dict[str, Any] = {"action": "viewed_restricted", "target": "incidents",
                                  "target_id": incident.id, "now": now, "actor": who,
                                  "detail": incident.number}
        if session.get_bind().get_execution_options().get(READ_ONLY):
            with runtime.sessions() as writer, writer.begin():
                record(writer, **kwargs)
        else:
            record(session, **kwargs)

    return hook
