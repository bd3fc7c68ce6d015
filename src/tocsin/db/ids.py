"""Primary keys handed out before the INSERT, so a batch of new rows needs no flush each.

Triage creates an alert and an incident per new event, and other rows (timeline, pages,
timers) name the incident's id at once. Flushing every new row to learn its id made a
batch of events cost one round of INSERTs per event; with the id known up front, the
whole batch is written by the one flush at its end, an executemany per table.

SQLite only, and only in a transaction that asked for it with `batch_writes`: SQLite's
writers are serialised (`BEGIN IMMEDIATE`), so within a transaction the next id is the
table's largest plus one, as SQLite itself would choose. The ORM orders one flush's INSERTs
by relationships, which our models do not declare, so a row may be inserted before the row
it names: the transaction defers its foreign key checks to COMMIT (where a violation still
fails the whole transaction). Elsewhere `None`: the caller flushes and lets the database
(PostgreSQL's sequence, where other transactions insert concurrently) choose.

Features insert through db/rows.py, which asks for the ids; only the owner of a
transaction (the intake processor) calls `batch_writes`. Every row of a counted table must
then take its id from here (db/checks.py checks it under tests).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, func, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, sessionmaker

_COUNTERS = "tocsin.db.next_ids"
_ENABLED = "tocsin.db.batch_writes"


def batch_writes(session: Session, models: Sequence[type[Any]] = ()) -> bool:
    """Let this transaction hand out ids before INSERT (SQLite; False elsewhere).
    `models`: tables whose next ids to read now, in one query rather than one each."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    session.execute(text("PRAGMA defer_foreign_keys = ON"))  # reset by COMMIT / ROLLBACK
    session.info[_ENABLED] = True
    if models:
        names, statement = _largest_ids(tuple(models))
        counters: dict[str, int] = session.info.setdefault(_COUNTERS, {})
        for name, value in zip(names, session.execute(statement).one(), strict=True):
            counters[name] = int(value or 0) + 1
    return True


@functools.cache
def _largest_ids(models: tuple[type[Any], ...]) -> tuple[list[str], Select[Any]]:
    """The tables' names and one SELECT of their largest ids (built once: building it cost
    more than running it)."""
    tables = [cast(Table, m.__table__) for m in models]
    return [t.name for t in tables], select(*(
        select(func.max(t.c.id)).scalar_subquery().label(t.name) for t in tables))


def preassigned_id(session: Session, model: type[Any]) -> int | None:
    """The id the next row of `model` takes in this transaction, or None (see above)."""
    if not session.info.get(_ENABLED):
        return None
    table = cast(Table, model.__table__)
    counters: dict[str, int] = session.info.setdefault(_COUNTERS, {})
    following = counters.get(table.name)
    if following is None:
        # Rows of this table waiting in the session all carry ids from this counter, which
        # is new: none is waiting, so the database's largest id is the largest.
        with session.no_autoflush:
            following = int(session.scalar(select(func.max(table.c.id))) or 0) + 1
    counters[table.name] = following + 1
    return following


def declared_id(session: Session, model: type[Any]) -> int | None:
    """The id the next row of `model` takes in this transaction, when it counts the table
    (named to batch_writes); else None: the database chooses."""
    counters: dict[str, int] | None = session.info.get(_COUNTERS)
    if not counters:
        return None
    name: str = model.__table__.name
    following = counters.get(name)
    if following is None:
        return None
    counters[name] = following + 1
    return following


def counted_tables(session: Session) -> frozenset[str]:
    """The tables whose ids this transaction hands out (so far)."""
    if not session.info.get(_ENABLED):
        return frozenset()
    return frozenset(session.info.get(_COUNTERS, ()))


def _forget(session: Session, *_: Any) -> None:
    # A rolled-back (sub)transaction discarded its waiting rows: the next id is read from
    # the table again.
    session.info.pop(_COUNTERS, None)


def _end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost one: committed or rolled back
        session.info.pop(_COUNTERS, None)
        session.info.pop(_ENABLED, None)


def install(sessions: sessionmaker[Session]) -> None:
    """Make `sessions` forget handed-out ids as described above (db/session.py calls this
    for every sessionmaker it makes)."""
    sa_event.listen(sessions, "after_soft_rollback", _forget)
    sa_event.listen(sessions, "after_transaction_end", _end)
