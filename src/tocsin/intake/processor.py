"""Triage of the inbox: the worker job that turns accepted rows into alerts and incidents.

Rows are taken in id order (arrival order) by one processor at a time — PostgreSQL: a
transaction-scoped advisory lock; SQLite: its single writer — so a trigger and the resolve
after it for the same dedup key are applied in that order. A batch of rows is one
transaction, and each row is marked done in that same transaction: a crash anywhere leaves
the row pending and nothing applied, so an event is never lost nor applied twice. A row
that raises makes the batch run again with a SAVEPOINT per row (see process_batch); it is
retried on the next batches and marked failed after `intake_max_attempts` (kept, listed by
the API, retryable).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table, bindparam, select, text, update
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, AlertEvent
from tocsin.alerts.normalized import NormalizedEvent
from tocsin.alerts.service import IngestResult, ingest_event
from tocsin.alerts.triage_config import IntegrationInfo, integration_info
from tocsin.db.ids import batch_writes
from tocsin.db.write_lock import write_lock
from tocsin.engine.models import Timer
from tocsin.escalation.models import Escalation
from tocsin.incidents.models import Incident
from tocsin.intake.formats import alertmanager, generic, opsgenie, pagerduty
from tocsin.intake.models import InboxRow, InboxStatus
from tocsin.intake.opsgenie_triage import apply_edit, events_from_act
from tocsin.notify.models import Message
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.intake")

# Any 64-bit number that no other feature uses as an advisory lock key ("tocsinbx").
ADVISORY_LOCK = 0x746F6373696E6278 & 0x7FFFFFFFFFFFFFFF
# How long one triage transaction may run. On SQLite it holds the database's only write
# lock, and an accept waits for it: short — but each transaction also pays for loading
# triage configuration again, so much shorter batches triage fewer rows per second
# (docs/intake.md). On PostgreSQL accepts never wait for it, and each commit is a WAL flush.
BATCH_SECONDS = {"sqlite": 0.02, "postgresql": 0.1}
# One run of the job stops after this long, so the worker's other jobs (delivery of the
# pages the new incidents asked for) are not starved by a long backlog.
RUN_SECONDS = 0.5
# Inbox rows loaded per query.
ROWS_PER_QUERY = 4
ERROR_CHARS = 2000


# The tables a batch of new alerts writes to with ids handed out up front (db/ids.py).
BATCH_TABLES = (Alert, AlertEvent, Incident, Escalation, Message, Timer)


class RowProblem(Exception):
    """The row cannot be processed as stored (e.g. its integration was deleted)."""


def events_of(session: Session, row: InboxRow,
              integration: IntegrationInfo) -> tuple[list[NormalizedEvent], str]:
    """Rebuild a row's events with the same pure format that validated it at arrival."""
    if row.format == pagerduty.FORMAT:
        return pagerduty.events_from(row), row.body
    if row.format == opsgenie.FORMAT_CREATE:
        return opsgenie.events_from_create(row), row.body
    if row.format == opsgenie.FORMAT_ACT:
        return events_from_act(session, row), row.body
    if row.format in alertmanager.FORMATS:
        return alertmanager.events_from(row, row.format)
    if row.format == generic.FORMAT:
        return generic.events_from(row, integration.mapping or {}), row.body
    raise RowProblem(f"unknown inbox format {row.format!r}")


def _outcome(result: IngestResult) -> dict[str, Any]:
    return {"alert_id": result.alert_id, "incident_id": result.incident_id,
            "outcome": result.outcome}


def _triage_row(session: Session, row: InboxRow, runtime: Runtime,
                now: datetime) -> list[IngestResult]:
    integration = integration_info(session, row.integration_id)
    if integration is None:
        raise RowProblem(f"integration {row.integration_id} no longer exists")
    if row.format == opsgenie.FORMAT_EDIT:  # changes an alert, no event to triage
        return apply_edit(session, row, now=now)
    events, raw = events_of(session, row, integration)
    return [ingest_event(session, e, now=now, settings=runtime.settings, raw=raw)
            for e in events]


def _done_values(results: list[IngestResult], now: datetime) -> dict[str, Any]:
    return {"status": InboxStatus.DONE.value,
            "outcome": [_outcome(r) for r in results], "processed_at": now, "error": None,
            "body": ""}  # the alert events keep the (capped) raw payload


def _done(row: InboxRow, results: list[IngestResult], now: datetime) -> None:
    for name, value in _done_values(results, now).items():
        setattr(row, name, value)


def _apply(session: Session, row: InboxRow, runtime: Runtime, now: datetime) -> None:
    """One row inside its own SAVEPOINT: if it fails, only its own work is undone."""
    settings = runtime.settings
    try:
        with session.begin_nested():
            results = _triage_row(session, row, runtime, now)
    except Exception as exc:  # this row alone failed; its savepoint rolled back
        row.attempts += 1
        row.error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
        if row.attempts >= settings.intake_max_attempts:
            row.status = InboxStatus.FAILED.value
            log.error("intake inbox row %s failed %d times, giving up: %s", row.id,
                      row.attempts, row.error)
        return
    _done(row, results, now)


class _RowFailed(Exception):
    """A row raised in an optimistic batch: the batch is rolled back and run row by row."""


# Built once: constructing the query costs about as much as running it.
_PENDING = (select(InboxRow).where(InboxRow.status == InboxStatus.PENDING.value,
                                   InboxRow.id > bindparam("after"))
            .order_by(InboxRow.id).limit(ROWS_PER_QUERY))


def _pending_rows(session: Session, limit: int) -> Iterator[InboxRow]:
    """Pending rows in id order, loaded a few at a time (a body may be 512 KB, and a batch
    usually ends on its time budget long before `limit`)."""
    after = 0
    while limit > 0:
        with session.no_autoflush:  # the batch's work is flushed once, at its end
            rows = session.scalars(_PENDING, {"after": after}).all()[:limit]
        if not rows:
            return
        yield from rows
        after = rows[-1].id
        limit -= len(rows)


def _run_batch(runtime: Runtime, session: Session, now: datetime, limit: int, *,
               careful: bool) -> tuple[int, list[dict[str, Any]]]:
    """Returns how many rows were handled and, optimistic, the done rows' new values."""
    budget = BATCH_SECONDS.get(session.get_bind().dialect.name, 0.1)
    started = time.perf_counter()
    handled = 0
    done: list[dict[str, Any]] = []
    for row in _pending_rows(session, limit):
        if handled and time.perf_counter() - started > budget:
            break
        if careful:
            _apply(session, row, runtime, now)
        else:
            try:
                done.append({"row_id": row.id,
                             **_done_values(_triage_row(session, row, runtime, now), now)})
            except Exception as exc:
                raise _RowFailed from exc
        handled += 1
    return handled, done


def process_batch(runtime: Runtime, *, limit: int | None = None) -> int:
    """Process the oldest pending rows in one transaction; returns how many were handled
    (processed or failed an attempt). 0 when the inbox is empty or another process holds
    the processor lock.

    Optimistic first: the rows run without a SAVEPOINT each (one per row cost about as
    much as a tenth of the row's triage). If any row raises, that transaction is rolled
    back whole and the batch runs again with a SAVEPOINT per row, so the failing row alone
    is retried later and the others commit."""
    limit = limit or runtime.settings.intake_batch_size
    now = runtime.clock.now()
    with write_lock(runtime.engine, urgent=False):
        for careful in (False, True):
            try:
                with runtime.sessions() as session, session.begin():
                    if session.get_bind().dialect.name == "postgresql":
                        locked = session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                                {"k": ADVISORY_LOCK})
                        if not locked:
                            return 0
                    if not careful:
                        # SQLite: the batch's new rows are written by one flush at its end
                        # (ids handed out up front, foreign keys checked at COMMIT).
                        batch_writes(session, BATCH_TABLES)
                    handled, done = _run_batch(runtime, session, now, limit, careful=careful)
                    if not careful:
                        _flush_batch(session, done)
                return handled
            except _RowFailed:
                continue
    return 0


# Core, not the ORM's bulk UPDATE by primary key: the same statement without its handling.
_INBOX = cast(Table, InboxRow.__table__)
_MARK_DONE = update(_INBOX).where(_INBOX.c.id == bindparam("row_id"))


def _flush_batch(session: Session, done: list[dict[str, Any]]) -> None:
    """Write the optimistic batch, mark its rows done and commit (so that a failure of any
    is one of a row's, retried row by row, not the job's)."""
    driver = session.connection().connection.driver_connection
    try:
        session.flush()
        if done:  # one executemany by primary key for the batch's rows
            session.connection().execute(_MARK_DONE, done)
        session.commit()
    except Exception as exc:
        # SQLite keeps the transaction open when COMMIT fails a deferred foreign key
        # check, and the pool, told the transaction ended, would not roll it back.
        if driver is not None and getattr(driver, "in_transaction", False):
            driver.rollback()
        raise _RowFailed from exc


def has_pending(runtime: Runtime) -> bool:
    # A read-only snapshot: an idle processor must never take SQLite's write lock.
    with runtime.read_sessions() as session:
        return session.scalar(select(InboxRow.id).where(
            InboxRow.status == InboxStatus.PENDING.value).limit(1)) is not None


def process_pending(runtime: Runtime, *, seconds: float = RUN_SECONDS) -> int:
    """Process batches until the inbox is empty or `seconds` have passed."""
    if not has_pending(runtime):
        return 0
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        _gather(runtime.engine)
        handled = process_batch(runtime)
        _LAST_BATCH[runtime.engine] = (time.monotonic(), handled)
        if handled == 0:
            break
        total += handled
    return total


# A batch has a fixed cost (BEGIN, the id counters, one executemany per table, COMMIT)
# several times a row's. Under a steady stream each accept woke triage for the one or two
# rows it committed, so batches stayed that small and the fixed cost made triage fall
# behind. When the previous batch was small and ended moments ago, the next one waits until
# GATHER_SECONDS after it, letting rows gather; an event after a quiet moment is triaged at
# once. The wait is short since triage has a process of its own (`tocsin serve`,
# server.py): longer waits delayed pages, none cost much more CPU per event
# (bench/paging.py latency; figures in docs/intake.md).
GATHER_SECONDS = 0.010
GATHER_BELOW = 16  # rows: a batch this small was not worth its fixed cost
_LAST_BATCH: WeakKeyDictionary[Engine, tuple[float, int]] = WeakKeyDictionary()


def _gather(engine: Engine) -> None:
    ended, handled = _LAST_BATCH.get(engine, (0.0, 0))
    wait = ended + GATHER_SECONDS - time.monotonic()
    if 0 < handled < GATHER_BELOW and wait > 0:
        time.sleep(wait)
