"""Check runners in child processes, sharing the checks through the database claim.

One runner tops out near one core (its event loop and its result writer share a GIL), so a
host with more cores runs `check_runner_processes` of them. Each child runs the same
`CheckRunner` and claims with the same conditional update (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so each due run goes to exactly one process.

Supervision: the worker's `checks.runner` job calls `RunnerProcesses.ensure()` every cycle,
which starts missing children, restarts dead ones and renews each child's lease over its
pipe. A child stops when its lease runs out (the worker stopped cycling), when its pipe reads
end-of-file (the parent exited or was killed: no orphans), on "stop" or on SIGTERM. It
ignores SIGINT: Ctrl-C reaches the whole process group, and the parent decides.
Children are spawned, not forked: the parent has threads and open database connections.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Literal

from tocsin.checks.runner import CheckRunner, RunnerStats
from tocsin.settings import Settings
from tocsin.wiring import build_runtime

log = logging.getLogger("tocsin.checks")

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


def child_main(settings: Settings, conn: Connection, lease_seconds: float) -> None:
    """A runner process: run checks until told to stop, the lease ends or the parent is gone."""
    from tocsin.server import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quit_ = threading.Event()
    signal.signal(signal.SIGTERM, lambda _sig, _frame: quit_.set())
    configure_logging(settings)
    runtime = build_runtime(settings)
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
class _Child:
    process: BaseProcess
    conn: Connection
    last: Report | None = None
    # The latest lateness samples received from this child (bounded: the worker runs for
    # months).
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))

    def receive(self) -> None:
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


class RunnerProcesses:
    """`count` check runner processes for one configuration, kept alive by `ensure()`."""

    def __init__(self, settings: Settings, count: int, *, lease_seconds: float = 30.0) -> None:
        self.settings = settings
        self.count = count
        self.lease_seconds = lease_seconds
        self.restarts = 0
        self._children: list[_Child | None] = [None] * count
        self._context = multiprocessing.get_context("spawn")

    @property
    def pids(self) -> list[int]:
        return [c.process.pid for c in self._children if c is not None and c.process.pid]

    @property
    def alive(self) -> bool:
        return all(c is not None and c.process.is_alive() for c in self._children)

    def ensure(self) -> int:
        """Start children that are missing or dead, renew the lease of the others; returns
        how many were started."""
        started = 0
        for i, child in enumerate(self._children):
            if child is not None and child.process.is_alive():
                child.receive()
                child.send("renew")
                continue
            if child is not None:
                child.receive()
                log.warning("check runner process %s exited with %s; restarting",
                            child.process.pid, child.process.exitcode)
                child.conn.close()
                self.restarts += 1
            self._children[i] = self._start()
            started += 1
        return started

    def _start(self) -> _Child:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=child_main, args=(self.settings, theirs, self.lease_seconds),
            name="tocsin-checks", daemon=True)
        process.start()
        theirs.close()  # only the child holds its end: our exit reads as end-of-file there
        return _Child(process, ours)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask every child to stop (each stores its buffered results), then wait for them."""
        children = [c for c in self._children if c is not None]
        for child in children:
            child.send("stop")
        deadline = time.monotonic() + timeout
        for child in children:
            # Keep reading while waiting: a child blocked on a full pipe could not exit.
            while child.process.is_alive() and time.monotonic() < deadline:
                child.receive()
                child.process.join(0.05)
            child.receive()
            if child.process.is_alive():
                log.warning("check runner process %s did not stop; killing it", child.process.pid)
                child.process.kill()
                child.process.join(5)
            child.conn.close()

    def stats(self) -> RunnerStats:
        """Counters summed over the current children (as of their last reports) and every
        lateness sample received so far."""
        total = RunnerStats()
        for child in self._children:
            if child is None:
                continue
            child.receive()
            if child.last is not None:
                total.started += child.last.started
                total.finished += child.last.finished
                total.failed += child.last.failed
            total.lateness.extend(child.lateness)
        return total

    def clear_lateness(self) -> None:
        """Forget the lateness samples received so far (a benchmark's warm-up)."""
        for child in self._children:
            if child is not None:
                child.receive()
                child.lateness.clear()

    def per_process(self) -> dict[int, int]:
        """Checks started by each current child, as of its last report."""
        out: dict[int, int] = {}
        for child in self._children:
            if child is not None:
                child.receive()
                if child.last is not None:
                    out[child.last.pid] = child.last.started
        return out
