"""One way to insert a row, and to ask whether this transaction inserted it.

Domain code inserts with `add` (a row that nothing changes through the ORM later in the
transaction) or `add_object` (an ORM object it goes on changing), and asks `created_here`
instead of passing "this was created in this transaction" down its calls. How a row reaches
its table is decided here, and only here:

- in a transaction that asked for batch writes (db/ids.py, SQLite), a row of a table it
  named takes its id before the INSERT, so a batch of new rows needs no flush each;
- `add`'s rows are not ORM objects: they are queued in the session and written by one
  executemany per table (db/queued.py), before the session's next statement, at a flush and
  at COMMIT, so queries later in the transaction find them;
- `add_object`'s rows are ORM objects, inserted at the session's next flush.

`created_here` knows the rows added through this module since the transaction began. Its
answers err on the safe side: after any rolled-back SAVEPOINT it forgets everything
(answering False, so callers look in the table again).

The boundary, what the speed-ups still ask of code outside `db/` (db/checks.py checks the
first two under tests, tests/intake/test_batch_writes.py the third):
- every row of a table that takes pre-assigned ids is inserted through this module while a
  transaction hands them out (a row whose id the database chooses would take one the
  counter hands out later);
- a caller that skips a look-up because of `created_here` must insert the rows it would
  have found through this module too (otherwise `created_here` cannot see them);
- code run for every event of a batch avoids ORM queries: each writes the queued rows first
  (autoflush), so the batch's INSERTs would go out in rounds instead of one;
- a row added with `add` is in no identity map: finding it again takes a query;
- the owner of a transaction (the intake processor) decides whether it hands out ids
  (`ids.batch_writes`); features never do.
`held` keeps ORM objects a feature loaded or created, by its own keys, for the transaction
(the alerts triage looks up without a query); that feature must be the only one changing
them (for alerts, db/checks.py checks it).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from tocsin.db import checks
from tocsin.db.ids import declared_id
from tocsin.db.queued import queue_row, queue_token

M = TypeVar("M")

_ADDED = "tocsin.db.rows.added"
_HELD = "tocsin.db.rows.held"


class _Added:
    """The rows of one table added in this transaction, with an index per column asked
    about (built at the first question, kept up to date after)."""

    __slots__ = ("index", "rows")

    def __init__(self) -> None:
        self.rows: list[Mapping[str, Any]] = []
        self.index: dict[str, set[Any]] = {}

    def record(self, values: Mapping[str, Any]) -> None:
        self.rows.append(values)
        if self.index:
            for column, seen in self.index.items():
                seen.add(values.get(column))

    def has(self, column: str, value: Any) -> bool:
        seen = self.index.get(column)
        if seen is None:
            seen = self.index[column] = {row.get(column) for row in self.rows}
        return value in seen


def _added(session: Session, model: type[Any]) -> _Added:
    added: dict[type[Any], _Added] = session.info.setdefault(_ADDED, {})
    found = added.get(model)
    if found is None:
        found = added[model] = _Added()
    return found


def _with_id(session: Session, model: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    if "id" not in values:
        row_id = declared_id(session, model)
        if row_id is not None:  # else the database chooses
            values["id"] = row_id
    return values


def add(session: Session, model: type[Any], **values: Any) -> None:
    """Insert a row of `model` with this transaction. It is not an ORM object: nothing may
    change it through the ORM in this transaction (a query loads it from the table)."""
    _with_id(session, model, values)
    queue_row(session, model.__table__, values)
    _added(session, model).record(values)


def add_changeable(session: Session, model: type[Any], **values: Any
                   ) -> tuple[dict[str, Any], object]:
    """`add`, returning the queued values and a token: while `still_queued(session, token)`
    the row is not written yet, and changing those values changes what will be written
    (its owner's later changes in the transaction need no UPDATE, and no statement that
    would write the batch's queued rows early). Not for columns other code reads back."""
    add_values = _with_id(session, model, values)
    queue_row(session, model.__table__, add_values)
    _added(session, model).record(add_values)
    return add_values, queue_token(session)


def still_queued(session: Session, token: object) -> bool:
    return token is not None and queue_token(session) is token


def add_object(session: Session, model: type[M], *, need_id: bool = False,
               **values: Any) -> M:
    """Insert a row of `model` as an ORM object (inserted at the next flush). `need_id`: its
    id is known when this returns (flushing to learn it when not handed out up front)."""
    obj = model(**_with_id(session, model, values))
    session.add(obj)
    if checks.active:
        checks.added_through_rows(session, obj)
    if need_id and getattr(obj, "id", None) is None:
        session.flush()
        values = {**values, "id": getattr(obj, "id")}  # noqa: B009
    _added(session, model).record(values)
    return obj


def created_here(session: Session, target: Any, **match: Hashable) -> bool:
    """Whether a row was added through this module since this transaction began: `target`
    an ORM object (matched by id), or a model and one `column=value`."""
    added: dict[type[Any], _Added] | None = session.info.get(_ADDED)
    if isinstance(target, type):
        ((column, value),) = match.items()
        rows = added.get(target) if added else None
        found = rows is not None and rows.has(column, value)
        if checks.active and not found:
            checks.relied_on_absence(session, target)
        return found
    value = getattr(target, "id", None)
    if value is None or not added:
        return False
    rows = added.get(type(target))
    return rows is not None and rows.has("id", value)


def held(session: Session, name: str) -> dict[Hashable, Any]:
    """ORM objects this transaction holds, by keys the caller chooses (e.g. the alerts it
    loaded or created, so that finding one again needs no query). Emptied when the
    transaction ends; those that left the session with a rolled-back SAVEPOINT are dropped."""
    spaces: dict[str, dict[Hashable, Any]] = session.info.setdefault(_HELD, {})
    found = spaces.get(name)
    if found is None:
        found = spaces[name] = {}
    return found


def _forget_rolled_back(session: Session, _previous: SessionTransaction) -> None:
    session.info.pop(_ADDED, None)
    spaces: dict[str, dict[Hashable, Any]] | None = session.info.get(_HELD)
    for name, objects in (spaces or {}).items():
        spaces[name] = {k: o for k, o in objects.items() if o in session}  # type: ignore[index]


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ADDED, None)
        session.info.pop(_HELD, None)


def install(sessions: sessionmaker[Session]) -> None:
    """Make `sessions` forget what they added and held when a (sub)transaction rolls back or
    the outermost one ends (db/session.py calls this for every sessionmaker it makes)."""
    sa_event.listen(sessions, "after_soft_rollback", _forget_rolled_back)
    sa_event.listen(sessions, "after_transaction_end", _forget)
