"""Run-time checks of rules that correctness rests on but no type or schema enforces.

Off in production (each costs a little on every statement or attribute set); the test suite
turns them on (tests/conftest.py calls `install`), so a change that breaks a rule fails the
tests that exercise it with RuleBroken, naming the rule. Each broken rule is also kept in
`broken`, so one raised where code recovers from any error (the intake processor retries
a failed optimistic batch row by row) still fails the test (tests/conftest.py). The rules:

- batch ids: while a transaction hands out ids before INSERT (db/ids.py), every row of a
  table it counts is inserted with one (a row whose id the database chose would take an
  id the counter hands out later);
- owned models: only the module named for a model changes its rows — the test suite names
  alerts/service.py for Alert (its per-transaction cache of alerts, db/rows.py `held`, is
  then the only place an alert can differ from its table);
- configuration: a transaction that writes a configuration table bumps the configuration
  counter before it commits, as writes through a Session do (db/config_cache.py); a write
  on a bare connection would leave every process reading the old configuration;
- cached configuration: values kept by config_cache are plain (no ORM objects, which
  belong to one session);
- created here: once a transaction skipped a look-up because `rows.created_here` found no
  such row of a table, every row of that table it inserts goes through db/rows.py (which
  `created_here` sees). Checked at the flush for ORM objects and when queued for plain
  rows; a row added past db/rows.py and flushed before the question is not caught.

The fourth rule of the speed-ups, "no ORM query on a batch's hot path", is about speed, not
correctness: tests/intake/test_batch_writes.py counts the batch's INSERT statements.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Delete, Engine, Insert, Table, TextClause, Update, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from tocsin.db import ids

active = False  # read by the modules that check rules without listeners of their own

_PACKAGE = "/tocsin/"
# Frames that act on behalf of their caller: the rule asks who called them.
_INTERMEDIARIES = ("/sqlalchemy/", "/tocsin/db/checks.py", "/tocsin/db/rows.py")
_OWNERS: dict[str, tuple[str, str]] = {}  # table name: (model name, module that owns it)
_config_tables: frozenset[str] = frozenset()
_CONFIG_WRITTEN = "tocsin.checks.config_written"
_CONFIG_BUMPED = "tocsin.checks.config_bumped"
_RELIED = "tocsin.checks.relied_on_absence"
_THROUGH_ROWS = "tocsin.checks.through_rows"
_ROWS_MODULE = "/tocsin/db/rows.py"
_BUMP = re.compile(r"^\s*UPDATE\s+config_version\b", re.IGNORECASE)


class RuleBroken(AssertionError):
    """A rule of db/checks.py does not hold."""


broken: list[str] = []  # every rule broken since the list was last cleared


def _broken(message: str) -> RuleBroken:
    broken.append(message)
    return RuleBroken(message)


def install(owners: Mapping[type[Any], str], config_tables: frozenset[str]) -> None:
    """Turn the checks on for the whole process (once). `owners`: models that only one
    module may change, with that module's name (e.g. {Alert: "tocsin.alerts.service"});
    `config_tables`: the tables whose writes must bump the configuration counter
    (db/config_cache.py's CONFIG_TABLES)."""
    global active, _config_tables
    if active:
        return
    active = True
    _config_tables = config_tables
    for model, module in owners.items():
        _OWNERS[model.__table__.name] = (model.__name__, module)
        for attribute in inspect(model).column_attrs:
            event.listen(getattr(model, attribute.key), "set", _owned_set, propagate=True)
        event.listen(model, "init", _owned_init, propagate=True)
    event.listen(Mapper, "before_insert", _before_insert)
    event.listen(Engine, "before_execute", _before_execute)
    event.listen(Engine, "commit", _before_commit)
    event.listen(Engine, "rollback", _forget)
    event.listen(Session, "after_transaction_end", _end)


# ---- batch ids -------------------------------------------------------------------------------

def check_batch_id(session: Session, table: Table, row: Any) -> None:
    """Called for each row inserted while checks are active (ORM objects and queued rows)."""
    if table.name in ids.counted_tables(session) and _value(row, "id") is None:
        raise _broken(f"batch ids: a row of {table.name} inserted without a pre-assigned "
                         "id while this transaction hands them out (insert it through "
                         "tocsin.db.rows)")


def _value(row: Any, column: str) -> Any:
    return row.get(column) if isinstance(row, dict) else getattr(row, column, None)


def _before_insert(_mapper: Mapper[Any], _connection: Connection, target: Any) -> None:
    session = Session.object_session(target)
    table = getattr(type(target), "__table__", None)
    if session is not None and isinstance(table, Table):
        check_batch_id(session, table, target)
        if table in session.info.get(_RELIED, ()) and \
                id(target) not in session.info.get(_THROUGH_ROWS, ()):
            _broken_created_here(table)


# ---- created here ----------------------------------------------------------------------------

def relied_on_absence(session: Session, model: Any) -> None:
    """rows.created_here found no row of `model` (the caller may skip its look-up)."""
    session.info.setdefault(_RELIED, set()).add(model.__table__)


def added_through_rows(session: Session, obj: object) -> None:
    # Kept, not only its id: a collected object's id can be a new object's.
    session.info.setdefault(_THROUGH_ROWS, {})[id(obj)] = obj


def check_queued(session: Session, table: Table, row: dict[str, Any]) -> None:
    """Called for each row queued (db/queued.py) while checks are active."""
    check_batch_id(session, table, row)
    if table in session.info.get(_RELIED, ()) and \
            not sys._getframe(2).f_code.co_filename.endswith(_ROWS_MODULE):
        _broken_created_here(table)


def _end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_RELIED, None)
        session.info.pop(_THROUGH_ROWS, None)


def _broken_created_here(table: Table) -> None:
    raise _broken(f"created here: a row of {table.name} inserted past tocsin.db.rows in a "
                     "transaction that skipped a look-up of that table because "
                     "rows.created_here did not see one")


# ---- owned models ----------------------------------------------------------------------------

def _caller() -> str:
    """The file of the first frame that is not SQLAlchemy's, nor generated code, nor an
    intermediary's."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename.replace("\\", "/")
        if not name.startswith("<") and not any(part in name for part in _INTERMEDIARIES):
            return name  # (SQLAlchemy's generated __init__ is "<string>")
        frame = frame.f_back  # type: ignore[assignment]
    return ""


def _check_owner(table: str, what: str) -> None:
    model, module = _OWNERS[table]
    owner = "/" + module.replace(".", "/") + ".py"
    caller = _caller()
    if _PACKAGE in caller and not caller.endswith(owner):
        raise _broken(f"owned models: {model} {what} outside {module} (from {caller}); call "
                      f"a function of {module} instead")


def _owned_set(target: Any, value: Any, _old: Any, initiator: Any) -> Any:
    _check_owner(target.__table__.name, f"{initiator.key} set")
    return value


def _owned_init(target: Any, _args: Any, _kwargs: Any) -> None:
    _check_owner(target.__table__.name, "created")


def _in_flush() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.replace("\\", "/").endswith("orm/unitofwork.py"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


# ---- configuration ----------------------------------------------------------------------------

def _before_execute(connection: Connection, statement: Any, *_: Any) -> None:
    if isinstance(statement, TextClause):
        if _BUMP.match(statement.text):
            connection.info[_CONFIG_BUMPED] = True
        return
    if not isinstance(statement, Insert | Update | Delete):
        return
    name = getattr(statement.table, "name", None)
    if name in _OWNERS and not _in_flush():
        _check_owner(name, "rows written by a statement")
    if name in _config_tables:
        connection.info[_CONFIG_WRITTEN] = name


def _before_commit(connection: Connection) -> None:
    written = connection.info.pop(_CONFIG_WRITTEN, None)
    bumped = connection.info.pop(_CONFIG_BUMPED, False)
    if written is not None and not bumped:
        raise _broken(f"configuration: {written} written without bumping config_version "
                         "(write configuration through a Session, db/config_cache.py)")


def _forget(connection: Connection) -> None:
    connection.info.pop(_CONFIG_WRITTEN, None)
    connection.info.pop(_CONFIG_BUMPED, None)


# ---- cached configuration --------------------------------------------------------------------

def check_plain(key: Any, value: Any) -> None:
    """Called by config_cache for each value it shares between transactions."""
    if _holds_orm_object(value):
        raise _broken(f"cached configuration: the value for {key!r} holds an ORM object "
                         "(cache plain values: they outlive the session)")


def _holds_orm_object(value: Any) -> bool:
    if hasattr(value, "_sa_instance_state"):
        return True
    if isinstance(value, dict):
        return any(_holds_orm_object(v) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_orm_object(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_holds_orm_object(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False
