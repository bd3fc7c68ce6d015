"""Waking the delivery job when new messages commit, so a page does not wait a poll interval.

In one process a committed transaction that wrote messages sets `Runtime.wake` and the
delivery lane's own signal (`delivery_wake`: delivery runs in a thread of its own,
engine/worker.py). Separate workers on PostgreSQL LISTEN for the NOTIFY that the same
transaction issued (delivered only on commit) and set both in their process; on a SQLite
file the committing process rings the other processes' doorbells (engine/doorbell.py).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from tocsin.engine import doorbell as bell
from tocsin.notify.service import NOTIFY_CHANNEL, WAKE_FLAG

if TYPE_CHECKING:
    from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.notify")


# The delivery lane's signal per runtime, keyed by the runtime's wake event (one each).
_DELIVERY: WeakKeyDictionary[threading.Event, threading.Event] = WeakKeyDictionary()
_DELIVERY_LOCK = threading.Lock()


def _delivery_signal(wake: threading.Event) -> threading.Event:
    with _DELIVERY_LOCK:
        signal = _DELIVERY.get(wake)
        if signal is None:
            signal = _DELIVERY[wake] = threading.Event()
        return signal


def delivery_wake(runtime: Runtime) -> threading.Event:
    """Set after every commit that wrote messages (the delivery lane waits on it)."""
    return _delivery_signal(runtime.wake)


# How many times each runtime was woken for new messages (keyed by its wake event): the
# delivery lane, woken by a send that ended, claims again only if messages were written
# since its last claim (delivery.py), sparing SQLite's write lock an empty claim.
_WAKES: WeakKeyDictionary[threading.Event, int] = WeakKeyDictionary()


def wakes(runtime: Runtime) -> int:
    """How many times `runtime` was woken for new messages so far."""
    with _DELIVERY_LOCK:
        return _WAKES.get(runtime.wake, 0)


def _wake_all(wake: threading.Event) -> None:
    with _DELIVERY_LOCK:
        _WAKES[wake] = _WAKES.get(wake, 0) + 1
    wake.set()
    _delivery_signal(wake).set()


def install(sessions: sessionmaker[Session], wake: threading.Event,
            doorbell: bell.Doorbell | None = None) -> None:
    def after_commit(session: Session) -> None:
        session.info.pop("notified", None)
        if session.info.pop(WAKE_FLAG, False):
            _wake_all(wake)
            if doorbell is not None:
                doorbell.ring(bell.MESSAGES)

    def after_rollback(session: Session) -> None:
        session.info.pop("notified", None)
        session.info.pop(WAKE_FLAG, None)

    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_rollback", after_rollback)


def listen(database_url: str, wake: threading.Event, stop: threading.Event) -> None:
    """PostgreSQL only: set `wake` on each NOTIFY until `stop`; reconnects on errors."""
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0):
                        _wake_all(wake)
        except Exception as exc:  # the poll interval still covers us; just log and retry
            log.warning("LISTEN %s failed (%s); retrying", NOTIFY_CHANNEL, exc)
            time.sleep(1.0)


def start_listener(runtime: Runtime, stop: threading.Event) -> threading.Thread | None:
    """Wake this process's worker when another process commits work: LISTEN on
    PostgreSQL, the doorbell on a SQLite file (None when neither applies)."""
    database_url = runtime.settings.effective_database_url
    wake = runtime.wake
    if runtime.doorbell is not None:
        def on_ring(what: bytes) -> None:
            if what == bell.MESSAGES:
                _wake_all(wake)
            else:
                wake.set()
        return runtime.doorbell.listen(on_ring, stop)
    if not database_url.startswith("postgresql"):
        return None
    thread = threading.Thread(target=listen, args=(database_url, wake, stop),
                              name="tocsin-listen", daemon=True)
    thread.start()
    return thread
