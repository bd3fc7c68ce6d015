"""Waking the workers when work commits, so it does not wait a poll interval.

Two kinds of work: inbox rows (triage has work) and outbox rows (messages to send). In one
process a commit that wrote either sets `WakeUps.work` (the worker's loop); one that wrote
messages also sets `WakeUps.outbox` (the delivery lane runs in a thread of its own,
engine/worker.py) and counts itself in `WakeUps.outbox_writes`. Separate workers on
PostgreSQL LISTEN for the NOTIFY that the same transaction issued (delivered only on commit)
and set both in their process; on a SQLite file the committing process rings the other
processes' doorbells (db/doorbell.py).

Each runtime owns one `WakeUps` (Runtime.wakeups), made and installed on its sessionmaker
when the runtime is built.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from tocsin.db import doorbell as bell

log = logging.getLogger("tocsin.notify")

# The PostgreSQL channel workers LISTEN on (inbox rows and messages alike).
CHANNEL = "tocsin_messages"
# Run in a transaction (PostgreSQL) to wake listening workers if, and when, it commits.
NOTIFY = text(f"NOTIFY {CHANNEL}")
# In Session.info: this transaction wrote messages (wake after commit); it issued NOTIFY.
_OUTBOX_WRITTEN = "tocsin.db.wake"
_NOTIFIED = "tocsin.db.notified"


def wake_after_commit(session: Session) -> None:
    """This transaction writes outgoing messages: wake the delivery workers as soon as it
    commits — in this process (after commit), and on PostgreSQL by a NOTIFY that the
    database delivers to listening workers only if the transaction commits."""
    session.info[_OUTBOX_WRITTEN] = True
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(_NOTIFIED):
        session.execute(NOTIFY)
        session.info[_NOTIFIED] = True


class WakeUps:
    """One runtime's wake-up signals (see the module docstring)."""

    def __init__(self, doorbell: bell.Doorbell | None = None) -> None:
        # Any work committed: the worker's loop wakes early.
        self.work = threading.Event()
        # Messages committed: the delivery lane wakes.
        self.outbox = threading.Event()
        # SQLite file: how commits wake workers in other processes.
        self.doorbell = doorbell
        self._outbox_writes = 0
        self._lock = threading.Lock()

    @property
    def outbox_writes(self) -> int:
        """How many times this process was woken for new messages so far: the delivery
        lane, woken by a send that ended, claims again only if messages were written since
        its last claim (notify/delivery.py), sparing SQLite's write lock an empty claim."""
        with self._lock:
            return self._outbox_writes

    def outbox_written(self) -> None:
        """Messages committed (here, or in another process that told us)."""
        with self._lock:
            self._outbox_writes += 1
        self.work.set()
        self.outbox.set()

    def inbox_written(self) -> None:
        """Inbox rows committed in this process: wake triage here and in other processes."""
        self.work.set()
        if self.doorbell is not None:
            self.doorbell.ring(bell.INBOX)

    def install(self, sessions: sessionmaker[Session]) -> None:
        """Wake after each commit of `sessions` that asked for it (`wake_after_commit`)."""
        def after_commit(session: Session) -> None:
            session.info.pop(_NOTIFIED, None)
            if session.info.pop(_OUTBOX_WRITTEN, False):
                self.outbox_written()
                if self.doorbell is not None:
                    self.doorbell.ring(bell.OUTBOX)

        def after_rollback(session: Session) -> None:
            session.info.pop(_NOTIFIED, None)
            session.info.pop(_OUTBOX_WRITTEN, None)

        event.listen(sessions, "after_commit", after_commit)
        event.listen(sessions, "after_rollback", after_rollback)

    def start_listener(self, database_url: str,
                       stop: threading.Event) -> threading.Thread | None:
        """Wake this process's workers when another process commits work, until `stop`:
        LISTEN on PostgreSQL, the doorbell on a SQLite file (None when neither applies)."""
        if self.doorbell is not None:
            def on_ring(what: bytes) -> None:
                if what == bell.OUTBOX:
                    self.outbox_written()
                else:
                    self.work.set()
            return self.doorbell.listen(on_ring, stop)
        if not database_url.startswith("postgresql"):
            return None
        thread = threading.Thread(target=self._listen, args=(database_url, stop),
                                  name="tocsin-listen", daemon=True)
        thread.start()
        return thread

    def _listen(self, database_url: str, stop: threading.Event) -> None:
        """PostgreSQL: wake on each NOTIFY until `stop`; reconnects on errors."""
        import psycopg

        dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        while not stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.outbox_written()
            except Exception as exc:  # the poll interval still covers us; just log and retry
                log.warning("LISTEN %s failed (%s); retrying", CHANNEL, exc)
                time.sleep(1.0)
