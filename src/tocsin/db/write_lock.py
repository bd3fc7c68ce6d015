"""Who writes next to SQLite: short urgent transactions (accepting events, delivery's claim
and record) go before bulk ones (triage's batches).

SQLite has one writer at a time, and a writer that finds the lock taken sleeps in SQLite's
busy handler (1, 2, 5 … up to 100 ms between tries). Under `tocsin serve` the processor
thread ends one short triage transaction and starts the next at once, so the accept
writer would keep waking up to a lock taken again, and intake slowed to a crawl while a
backlog was triaged. Every writer therefore takes the write lock here first: a waiting
urgent writer blocks on a Python lock (woken the moment it is free) and a bulk writer lets
waiting urgent ones go first. Delivery's claim and record met the same busy handler behind
triage and accepts, so they are urgent too (short transactions, and the last step before a
page leaves).
Across processes (`tocsin serve` runs the API, the engine and delivery as separate
processes on one SQLite file) the lock also holds an exclusive `flock` on `<database>-turn`
(the file keeps its historical name), taken after the in-process lock: a writer in another
process then waits in the kernel and starts the moment the lock is free, instead of polling
in SQLite's busy handler. The urgent-first order holds there too: an urgent writer holds a
shared `flock` on `<database>-want` while it waits, and a bulk writer, before asking for
the lock, waits (up to BULK_YIELD_SECONDS) until it can take that lock exclusively, i.e.
until nobody waits. On PostgreSQL nothing is needed (rows, not the database, are locked).

("Turn", elsewhere in Tocsin, means a round-robin team's turn: escalation/.)
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

# A bulk writer waits at most this long for pending urgent ones to go first, so a stream of
# urgent writers slows bulk work down but never stops it.
BULK_YIELD_SECONDS = 0.05


# How often a bulk writer looks again whether urgent writers of other processes still wait.
WANT_POLL_SECONDS = 0.001


class WriteLock:
    """The write lock of one SQLite database, as one process takes it (module docstring)."""

    def __init__(self, path: str | None = None) -> None:
        # The cross-process lock files, opened once (None: in-memory database). The "want"
        # file is opened twice: flock treats each open file as its own holder, so a bulk
        # writer's check does not convert this process's own announcement.
        self._file: IO[bytes] | None = None
        self._want: IO[bytes] | None = None
        self._want_check: IO[bytes] | None = None
        if path:
            self._file = open(path + "-turn", "a+b")  # noqa: SIM115
            self._want = open(path + "-want", "a+b")  # noqa: SIM115
            self._want_check = open(path + "-want", "a+b")  # noqa: SIM115
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._urgent_waiting = 0

    @contextmanager
    def urgent(self) -> Iterator[None]:
        with self._changed:
            self._urgent_waiting += 1
        self._lock.acquire()
        with self._changed:
            self._urgent_waiting -= 1
            self._changed.notify_all()
        try:
            with self._across_processes(announce=True):
                yield
        finally:
            self._lock.release()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self._urgent_waiting == 0,
                                   timeout=BULK_YIELD_SECONDS)
        with self._lock:
            self._let_other_processes_go_first()
            with self._across_processes():
                yield

    def _let_other_processes_go_first(self) -> None:
        if self._want_check is None:
            return
        deadline = time.monotonic() + BULK_YIELD_SECONDS
        while True:
            try:
                fcntl.flock(self._want_check.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # an urgent writer is waiting
                if time.monotonic() >= deadline:
                    return
                time.sleep(WANT_POLL_SECONDS)
                continue
            fcntl.flock(self._want_check.fileno(), fcntl.LOCK_UN)
            return

    @contextmanager
    def _across_processes(self, *, announce: bool = False) -> Iterator[None]:
        if self._file is None:
            yield
            return
        if announce and self._want is not None:
            fcntl.flock(self._want.fileno(), fcntl.LOCK_SH)
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)  # waits without the GIL
        finally:
            if announce and self._want is not None:
                fcntl.flock(self._want.fileno(), fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)


# One lock per engine (a database, as one process sees it).
_LOCKS: WeakKeyDictionary[Engine, WriteLock] = WeakKeyDictionary()
_MADE = threading.Lock()


@contextmanager
def write_lock(engine: Engine, *, urgent: bool) -> Iterator[None]:
    """Hold this process's SQLite write lock (a no-op on other databases). `urgent`: a short
    transaction that goes before bulk ones (accepting events, delivery's claim and record);
    otherwise bulk work (triage) that lets waiting urgent writers go first."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with _MADE:
        lock = _LOCKS.get(engine)
        if lock is None:
            database = engine.url.database
            file = database if database and database != ":memory:" \
                and not database.startswith("file:") else None
            lock = _LOCKS[engine] = WriteLock(file)
    with lock.urgent() if urgent else lock.bulk():
        yield
