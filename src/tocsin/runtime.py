"""Everything a process shares: settings, database, clock, metrics. Built once, passed around."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tocsin.clock import Clock, SystemClock
from tocsin.db.doorbell import for_database
from tocsin.db.session import make_engine, make_sessionmaker
from tocsin.db.wakeup import WakeUps
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
    # How commits wake this process's workers, and other processes' (db/wakeup.py).
    wakeups: WakeUps = field(default_factory=WakeUps)
    # How this runtime was built (tocsin.wiring.build_runtime), for child processes that
    # build their own: a module-level function, so it crosses a spawn.
    factory: Callable[[Settings], Runtime] | None = None

    @property
    def wake(self) -> threading.Event:
        """Set after a commit that wrote work (inbox rows, messages): the worker wakes early."""
        return self.wakeups.work

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
        wakeups=WakeUps(for_database(settings.effective_database_url)),
    )
    runtime.wakeups.install(runtime.sessions)
    return runtime
