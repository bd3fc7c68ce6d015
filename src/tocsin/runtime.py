"""Everything a process shares: settings, database, clock, metrics. Built once, passed around."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import Clock, SystemClock
from tocsin.db.session import make_engine, make_sessionmaker
from tocsin.engine.doorbell import Doorbell, for_database
from tocsin.metrics import Metrics
from tocsin.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    read_sessions: sessionmaker[Session]
    metrics: Metrics = field(default_factory=Metrics)
    # Set after a commit that wrote outgoing messages; the worker wakes early (notify/wakeup.py).
    wake: threading.Event = field(default_factory=threading.Event)
    # SQLite file: how commits wake workers in other processes (engine/doorbell.py).
    doorbell: Doorbell | None = None
    # How this runtime was built (tocsin.wiring.build_runtime), for child processes that
    # build their own: a module-level function, so it crosses a spawn.
    factory: Callable[[Settings], Runtime] | None = None

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Settings, database and clock, without the hooks (`tocsin.wiring.build_runtime` adds
    them: that is the one to call)."""
    if not settings.database_url:  # the embedded database lives in the data directory
        settings.make_data_dir()
    engine = make_engine(settings.effective_database_url)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        read_sessions=make_sessionmaker(engine, read_only=True),
        clock=clock or SystemClock(),
        doorbell=for_database(settings.effective_database_url),
    )
    from tocsin.notify import wakeup

    wakeup.install(runtime.sessions, runtime.wake, runtime.doorbell)
    return runtime
