"""Waking the delivery job when new messages commit, so a page does not wait a poll interval.

In one process (`tocsin serve`) a committed transaction that wrote messages sets
`Runtime.wake`. Separate workers on PostgreSQL LISTEN for the NOTIFY that the same
transaction issued (delivered only on commit) and set their own `Runtime.wake`.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from tocsin.notify.service import NOTIFY_CHANNEL, WAKE_FLAG

log = logging.getLogger("tocsin.notify")


def install(sessions: sessionmaker[Session], wake: threading.Event) -> None:
    def after_commit(session: Session) -> None:
        session.info.pop("notified", None)
        if session.info.pop(WAKE_FLAG, False):
            wake.set()

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
                        wake.set()
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
