"""Who writes next to SQLite: accepting events and delivery's short transactions (claim,
record) go before triage.

SQLite has one writer at a time, and a writer that finds the lock taken sleeps in SQLite's
busy handler (1, 2, 5 … up to 100 ms between tries). Under `tocsin serve` the processor
thread ends one short triage transaction and starts the next at once, so the accept
writer would keep waking up to a lock taken again — intake fell to ~90 events/s while a
backlog was triaged. Both therefore take their turn here first: a waiting accept blocks on
a Python lock (woken the moment it is free) and triage lets waiting accepts go first.
Delivery's claim and record met the same busy handler behind triage and accepts: at 350
new incidents/s pages waited a median 400 ms in the outbox, against 41 ms once delivery
took `accept=True` turns (short transactions, and the last step before a page leaves).
Across processes (`tocsin serve` runs the API, the engine and delivery as separate
processes on one SQLite file) the turn also holds an exclusive `flock` on `<database>-turn`,
taken after the in-process lock: a writer in another process then waits in the kernel and
starts the moment the lock is free, instead of polling in SQLite's busy handler. The
accepts-first order holds there too: an accept-side writer holds a shared `flock` on
`<database>-want` while it waits, and triage, before asking for the turn, waits (up to
TRIAGE_YIELD_SECONDS) until it can take that lock exclusively, i.e. until nobody waits. On
PostgreSQL nothing is needed (rows, not the database, are locked).
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

# Triage waits at most this long for pending accepts to go first, so a stream of accepts
# slows triage down but never stops it.
TRIAGE_YIELD_SECONDS = 0.05


# How often triage looks again whether accept-side writers of other processes still wait.
WANT_POLL_SECONDS = 0.001


class Turns:
    def __init__(self, path: str | None = None) -> None:
        # The cross-process lock files, opened once (None: in-memory database). The "want"
        # file is opened twice: flock treats each open file as its own holder, so triage's
        # check does not convert this process's own announcement.
        self._file: IO[bytes] | None = None
        self._want: IO[bytes] | None = None
        self._want_check: IO[bytes] | None = None
        if path:
            self._file = open(path + "-turn", "a+b")  # noqa: SIM115
            self._want = open(path + "-want", "a+b")  # noqa: SIM115
            self._want_check = open(path + "-want", "a+b")  # noqa: SIM115
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._accepts_waiting = 0

    @contextmanager
    def accept(self) -> Iterator[None]:
        with self._changed:
            self._accepts_waiting += 1
        self._lock.acquire()
        with self._changed:
            self._accepts_waiting -= 1
            self._changed.notify_all()
        try:
            with self._across_processes(announce=True):
                yield
        finally:
            self._lock.release()

    @contextmanager
    def triage(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self._accepts_waiting == 0,
                                   timeout=TRIAGE_YIELD_SECONDS)
        with self._lock:
            self._let_other_processes_accept_first()
            with self._across_processes():
                yield

    def _let_other_processes_accept_first(self) -> None:
        if self._want_check is None:
            return
        deadline = time.monotonic() + TRIAGE_YIELD_SECONDS
        while True:
            try:
                fcntl.flock(self._want_check.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # an accept-side writer is waiting
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


_TURNS: WeakKeyDictionary[Engine, Turns] = WeakKeyDictionary()
_MADE = threading.Lock()


@contextmanager
def turn(engine: Engine, *, accept: bool) -> Iterator[None]:
    """Hold this process's SQLite write turn (a no-op on other databases). `accept`: a short
    transaction that goes before triage (accepting events, delivery's claim and record)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with _MADE:
        turns = _TURNS.get(engine)
        if turns is None:
            database = engine.url.database
            file = database if database and database != ":memory:" \
                and not database.startswith("file:") else None
            turns = _TURNS[engine] = Turns(file)
    with turns.accept() if accept else turns.triage():
        yield
