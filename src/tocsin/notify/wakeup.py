"""Waking the delivery job when new messages commit, so a page does not wait a poll interval.

In one process (`tocsin serve`) a committed transaction that wrote messages sets
`Runtime.wake` and the delivery lane's own signal (`delivery_wake`: delivery runs in a
thread of its own, engine/worker.py). Separate workers on PostgreSQL LISTEN for the NOTIFY
that the same transaction issued (delivered only on commit) and set both in their process.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

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


def _wake_all(wake: threading.Event) -> None:
    wake.set()
    _delivery_signal(wake).set()


def install(sessions: sessionmaker[Session], wake: threading.Event) -> None:
    def after_commit(session: Session) -> None:
        session.info.pop("notified", None)
        if session.info.pop(WAKE_FLAG, False):
            _wake_all(wake)

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


def start_listener(database_url: str, wake: threading.Event,
                   stop: threading.Event) -> threading.Thread | None:
    if not database_url.startswith("postgresql"):
        return None
    thread = threading.Thread(target=listen, args=(database_url, wake, stop),
                              name="tocsin-listen", daemon=True)
    thread.start()
    return thread
