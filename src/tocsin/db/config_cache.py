"""Configuration read once per process, not once per transaction, until someone changes it.

Triage and paging read the same configuration for every event — routing and classification
rules, maintenance windows, silences, grouping settings, service dependencies, escalation
policies, users, contact methods and notification rules. Loading it in each transaction
was a large share of the CPU an event costs. Instead, every change to a configuration
table bumps one counter row (`config_version`) in the changing transaction, and readers
keep what they loaded for as long as the counter they read at the start of their
transaction is the same.

How changes are seen, whatever the process that makes them:
- ORM flushes of configuration rows (insert, update, delete) bump the counter after the
  flush, in the same transaction (mapper events, so unrelated flushes cost nothing);
- bulk statements on configuration tables run through a Session (`session.execute(update(
  Model)…)`, `query(…).delete()`, executemany inserts) bump it before they run.
Both happen inside the writer's transaction, so the bump commits or rolls back with the
change. A transaction that changed configuration reads it fresh for the rest of its life
(its own uncommitted edits must not leak into the shared cache, nor be hidden from it).

Correctness of a cached value: the reader reads the counter first, then the rows. A change
committed in between is seen by the later reads and stored under the older counter; the
next transaction reads the newer counter and loads again — a wasted load, never a stale
answer. Values stored here must be plain (no ORM objects, which belong to one session;
db/checks.py checks it under tests) and must not be mutated by callers.

Writing configuration through a raw connection (not a Session) is not seen: nothing in
Tocsin does (db/checks.py checks it under tests), and SQL by hand must bump the counter
itself (docs/operations.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Integer, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, ORMExecuteState, Session, mapped_column, sessionmaker
from sqlalchemy.pool import Pool

from tocsin.db import checks
from tocsin.db.base import Base

T = TypeVar("T")

# The tables whose rows are configuration read by triage and paging. A table added here
# must only be written through a Session (see the module docstring; db/checks.py).
CONFIG_TABLES = frozenset({
    "integrations", "services", "service_dependencies", "routing_rules",
    "classification_rule_sets", "maintenance_windows", "silences", "triage_settings",
    "escalation_policies", "service_policies", "users", "teams", "team_members",
    "contact_methods", "notification_rules",
    "checklist_templates", "webhook_subscriptions",  # read on every incident event (issue 21)
    "chat_channel_maps",  # read on every new incident (chatops)
})

_TXN_KEY = "tocsin.config_cache"
_BUMP = text("UPDATE config_version SET version = version + 1 WHERE id = 1")
_READ = text("SELECT version FROM config_version WHERE id = 1")


class ConfigVersion(Base):
    """One row: the number of configuration changes committed so far."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class _Store:
    def __init__(self) -> None:
        self.version: int | None = None
        self.values: dict[Hashable, Any] = {}
        self.lock = threading.Lock()


# One store per connection pool (a database, as one process sees it).
_STORES: WeakKeyDictionary[Pool, _Store] = WeakKeyDictionary()
_STORES_LOCK = threading.Lock()


class _TxnState:
    """What one transaction knows: the counter it read, and whether it changed config."""

    __slots__ = ("changed", "local", "transaction", "version")

    def __init__(self, transaction: object) -> None:
        self.transaction = transaction
        self.version: int | None = None
        self.changed = False
        self.local: dict[Hashable, Any] = {}


def _state(session: Session) -> _TxnState:
    transaction = session.get_transaction()
    state: _TxnState | None = session.info.get(_TXN_KEY)
    if state is None or state.transaction is not transaction:
        state = _TxnState(transaction)
        session.info[_TXN_KEY] = state
    return state


def _store_for(session: Session) -> _Store:
    bind = session.get_bind()
    pool = bind.pool if isinstance(bind, Engine) else bind.engine.pool
    store = _STORES.get(pool)
    if store is None:
        with _STORES_LOCK:
            store = _STORES.setdefault(pool, _Store())
    return store


def config_cached(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """`load()`'s value for `key`, shared by every transaction of this process that sees
    the same configuration counter. `key` must name everything `load` depends on."""
    state = _state(session)
    if state.version is None and not state.changed:
        found = session.execute(_READ).scalar()
        state.version = -1 if found is None else int(found)  # no row yet: no sharing
    store = _store_for(session)
    shared = not state.changed and state.version is not None and state.version >= 0
    if shared:
        with store.lock:
            if store.version is None or store.version < state.version:  # type: ignore[operator]
                store.version, store.values = state.version, {}
            if store.version == state.version:
                if key in store.values:
                    return store.values[key]  # type: ignore[no-any-return]
            else:  # this transaction reads an older snapshot than the store's
                shared = False
    if not shared:
        if key not in state.local:
            state.local[key] = load()
        return state.local[key]  # type: ignore[no-any-return]
    value = load()
    if checks.active:
        checks.check_plain(key, value)
    if state.changed:  # load() flushed this transaction's own configuration edits
        state.local[key] = value
        return value
    with store.lock:
        if store.version == state.version:
            store.values[key] = value
    return value


def touched(session: Session) -> None:
    """This transaction is changing configuration (not flushed yet): from now on it reads
    configuration itself, not from the shared cache. The counter is bumped at the flush."""
    state = _state(session)
    state.changed = True
    state.local.clear()


def _changed(session: Session) -> None:
    touched(session)
    session.connection().execute(_BUMP)


def _flushed_config(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    if mapper.local_table.name not in CONFIG_TABLES:  # type: ignore[attr-defined]
        return
    session = Session.object_session(target)
    if session is not None:
        session.info[_TXN_KEY + ".dirty"] = True


def _after_flush(session: Session, _context: Any) -> None:
    if session.info.pop(_TXN_KEY + ".dirty", False):
        _changed(session)


def _bulk_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in CONFIG_TABLES:
        _changed(state.session)


_MAPPER_EVENTS = ("after_insert", "after_update", "after_delete")
_INSTALLING = threading.Lock()


def install(sessions: sessionmaker[Session]) -> None:
    """Make `sessions` bump the counter on every change of configuration, as described
    above (db/session.py calls this for every sessionmaker it makes). The mapper events,
    which cannot be scoped to one sessionmaker, are listened to once per process."""
    event.listen(sessions, "after_flush", _after_flush)
    event.listen(sessions, "do_orm_execute", _bulk_statement)
    with _INSTALLING:
        for kind in _MAPPER_EVENTS:
            if not event.contains(Mapper, kind, _flushed_config):
                event.listen(Mapper, kind, _flushed_config)
