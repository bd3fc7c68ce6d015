"""Rows inserted without the ORM's unit of work: queued in the session, written by one
executemany per table. Used through db/rows.py (`rows.add`), not by features directly.

For rows that nothing in the transaction changes after adding them (timeline entries, alert
log lines, pages, timers): building, tracking and flushing an ORM object for each was a
large share of triage's time per new incident. Queued rows behave like
pending ORM objects for whoever reads the tables through the session: they are written

- at every flush, after its own statements (a row may name a row that flush inserts);
- before any statement the session runs while autoflush is on, even when nothing else is
  pending (the ORM skips a clean session's flush);
- at COMMIT and at a SAVEPOINT's release, even without a flush;
- before a SAVEPOINT begins, so that rolling it back drops exactly the rows queued in it.

A rolled-back transaction or SAVEPOINT drops the rows not written yet (written ones are
undone by the database). A row's foreign keys must name rows with known ids.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Insert, Table, insert
from sqlalchemy import event as sa_event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from tocsin.db import checks

_QUEUE = "tocsin.db.queued"


def queue_row(session: Session, table: Table, row: dict[str, Any]) -> None:
    """Insert `row` into `table` with this transaction (see above for when)."""
    if checks.active:
        checks.check_queued(session, table, row)
    # Rows are grouped by their columns too: one executemany takes rows of one shape.
    queue: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = \
        session.info.setdefault(_QUEUE, {})
    queue.setdefault((table, tuple(row)), []).append(row)


def queue_token(session: Session) -> object | None:
    """The rows waiting now, as an opaque token: the same token later means none of them
    has been written since (writing takes the whole queue)."""
    return session.info.get(_QUEUE)


def write_queued(session: Session, connection: Connection | None = None) -> None:
    """Write the waiting rows now (in the order their tables were first queued)."""
    queue = session.info.pop(_QUEUE, None)
    if queue:
        connection = connection or session.connection()
        for (table, _columns), rows in queue.items():
            connection.execute(_insert(table), rows)


@functools.cache
def _insert(table: Table) -> Insert:
    return insert(table)  # built once: building it cost about as much as binding a row


def _after_flush(session: Session, _context: Any) -> None:
    write_queued(session)


def _before_statement(state: ORMExecuteState) -> None:
    session = state.session
    if session.info.get(_QUEUE) and session.autoflush:
        session.flush()  # the ORM's pending rows first (a queued row may name one)
        write_queued(session)


def _before_commit(session: Session) -> None:
    if session.info.get(_QUEUE):
        session.flush()
        write_queued(session)


def _before_savepoint(session: Session, transaction: SessionTransaction) -> None:
    # The ORM flushed its pending rows before this SAVEPOINT (which it emits later, at the
    # first statement); the queued ones go on the enclosing transaction's connection too.
    parent = transaction.parent
    if transaction.nested and parent is not None and session.info.get(_QUEUE):
        write_queued(session, parent.connection(None))


def _drop(session: Session, _previous: SessionTransaction) -> None:
    # Rows still waiting were queued in the work rolled back: since a SAVEPOINT began with
    # none waiting, none from before it is left.
    session.info.pop(_QUEUE, None)


def _end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_QUEUE, None)


def install(sessions: sessionmaker[Session]) -> None:
    """Make `sessions` write queued rows as described above (db/session.py calls this for
    every sessionmaker it makes)."""
    sa_event.listen(sessions, "after_flush", _after_flush)
    sa_event.listen(sessions, "do_orm_execute", _before_statement)
    sa_event.listen(sessions, "before_commit", _before_commit)
    sa_event.listen(sessions, "after_transaction_create", _before_savepoint)
    sa_event.listen(sessions, "after_soft_rollback", _drop)
    sa_event.listen(sessions, "after_transaction_end", _end)
