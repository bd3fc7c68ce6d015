"""Check runners in child processes, sharing the checks through the database claim.

One runner tops out near one core (its event loop and its result writer share a GIL), so a
host with more cores runs `check_runner_processes` of them. Each child runs the same
`CheckRunner` and claims with the same conditional update (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so each due run goes to exactly one process.

Supervision (engine/supervisor.py): the worker's `checks.runner` job calls
`RunnerProcesses.ensure()` every cycle, which renews each child's lease over its pipe and
starts missing children and restarts dead ones. A child stops when its lease runs out (the
worker stopped cycling), when its pipe reads end-of-file (the parent exited or was killed: no
orphans), on "stop" or on SIGTERM. It ignores SIGINT: Ctrl-C reaches the whole process group,
and the parent decides.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Literal

from tocsin.checks.runner import CheckRunner, RunnerStats
from tocsin.engine.supervisor import Child, Supervisor, spawn
from tocsin.logs import configure_logging
from tocsin.runtime import Runtime
from tocsin.settings import Settings

log = logging.getLogger("tocsin.checks")
RuntimeFactory = Callable[[Settings], Runtime]

Command = Literal["renew", "stop"]
# Lateness samples sent per report at most: bounds one message (a 5 s cycle at 3,000/s is
# 15,000 samples).
MOST_SAMPLES = 50_000


@dataclass(frozen=True)
class Report:
    """A child's counters (cumulative) and the lateness samples taken since its last report."""

    pid: int
    started: int
    finished: int
    failed: int
    lateness: list[float]


def _report(runner: CheckRunner, pid: int) -> Report:
    samples: list[float] = []
    # popleft is atomic: the runner's thread keeps appending while we drain.
    while runner.stats.lateness and len(samples) < MOST_SAMPLES:
        samples.append(runner.stats.lateness.popleft())
    stats = runner.stats
    return Report(pid, stats.started, stats.finished, stats.failed, samples)


def child_main(build: RuntimeFactory, settings: Settings, conn: Connection,
               lease_seconds: float) -> None:
    """A runner process: run checks until told to stop, the lease ends or the parent is gone.
    `build` makes its runtime (the parent's `Runtime.factory`: the one that adds the hooks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quit_ = threading.Event()
    signal.signal(signal.SIGTERM, lambda _sig, _frame: quit_.set())
    configure_logging(settings)
    runtime = build(settings)
    runner = CheckRunner(runtime, lease_seconds=lease_seconds)
    runner.start()
    try:
        while runner.alive and not quit_.is_set():
            if not conn.poll(0.2):
                continue
            command: Command = conn.recv()
            if command == "stop":
                break
            runner.renew()
            conn.send(_report(runner, os.getpid()))
    except (EOFError, OSError):
        pass  # the parent is gone: stop with it
    finally:
        runner.stop()
        runtime.close()
    with contextlib.suppress(OSError):  # the last counts, for a parent that waits
        conn.send(_report(runner, os.getpid()))


@dataclass
class _Child(Child):
    conn: Connection
    last: Report | None = None
    # The latest lateness samples received from this child (bounded: the worker runs for
    # months).
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))

    def collect(self) -> None:
        try:
            while self.conn.poll():
                report: Report = self.conn.recv()
                self.last = report
                self.lateness.extend(report.lateness)
        except (EOFError, OSError):
            pass

    def send(self, command: Command) -> None:
        with contextlib.suppress(OSError):  # it died; the next `ensure` restarts it
            self.conn.send(command)

    def ask_to_stop(self) -> None:
        self.send("stop")  # the child stores its buffered results first

    def close(self) -> None:
        self.conn.close()


class RunnerProcesses:
    """`count` check runner processes for one configuration, kept alive by `ensure()`."""

    def __init__(self, settings: Settings, count: int, *, build: RuntimeFactory,
                 lease_seconds: float = 30.0) -> None:
        self.settings = settings
        self.build = build
        self.count = count
        self.lease_seconds = lease_seconds
        self._supervisor: Supervisor[int, _Child] = Supervisor(
            range(count), self._start, log=log,
            name=lambda _slot, child: f"check runner process {child.process.pid}")

    @property
    def restarts(self) -> int:
        return self._supervisor.restarts

    @property
    def pids(self) -> list[int]:
        return list(self._supervisor.pids.values())

    @property
    def alive(self) -> bool:
        return self._supervisor.alive

    def ensure(self) -> int:
        """Renew the lease of the children alive, start those missing or dead; returns how
        many were started."""
        for child in self._supervisor.children:
            if child.process.is_alive():
                child.collect()
                child.send("renew")
        return self._supervisor.ensure()

    def _start(self, _slot: int) -> _Child:
        ours, theirs = Pipe()
        process = spawn(child_main, (self.build, self.settings, theirs, self.lease_seconds),
                        name="tocsin-checks", daemon=True)
        theirs.close()  # only the child holds its end: our exit reads as end-of-file there
        return _Child(process, ours)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask every child to stop (each stores its buffered results), then wait for them."""
        self._supervisor.stop(timeout)

    def stats(self) -> RunnerStats:
        """Counters summed over the current children (as of their last reports) and every
        lateness sample received so far."""
        total = RunnerStats()
        for child in self._supervisor.children:
            child.collect()
            if child.last is not None:
                total.started += child.last.started
                total.finished += child.last.finished
                total.failed += child.last.failed
            total.lateness.extend(child.lateness)
        return total

    def clear_lateness(self) -> None:
        """Forget the lateness samples received so far (a benchmark's warm-up)."""
        for child in self._supervisor.children:
            child.collect()
            child.lateness.clear()

    def per_process(self) -> dict[int, int]:
        """Checks started by each current child, as of its last report."""
        out: dict[int, int] = {}
        for child in self._supervisor.children:
            child.collect()
            if child.last is not None:
                out[child.last.pid] = child.last.started
        return out
