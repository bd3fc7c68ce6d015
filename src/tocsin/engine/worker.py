"""The worker: runs the explicit job list in order, cycle after cycle, timing each job."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tocsin.engine.timers import TimerHandler
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.engine")


@dataclass
class JobContext:
    runtime: Runtime
    worker_id: str
    handlers: Mapping[str, TimerHandler]


@dataclass(frozen=True)
class Job:
    """A periodic job. `run` returns how much work it did (0 = idle); `every` is in seconds,
    0 meaning every cycle."""

    name: str
    run: Callable[[JobContext], int]
    every: float = 0.0


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Worker:
    runtime: Runtime
    jobs: Sequence[Job]
    handlers: Mapping[str, TimerHandler]
    worker_id: str = field(default_factory=default_worker_id)
    _next_run: dict[str, float] = field(default_factory=dict)

    def run_cycle(self) -> int:
        """Run every job that is due, in list order. Returns the total work done."""
        ctx = JobContext(self.runtime, self.worker_id, self.handlers)
        slow = self.runtime.settings.slow_cycle_seconds
        total = 0
        for job in self.jobs:
            mono = time.monotonic()
            if self._next_run.get(job.name, 0.0) > mono:
                continue
            self._next_run[job.name] = mono + job.every
            started = time.perf_counter()
            try:
                total += job.run(ctx)
            except Exception:
                # A broken job must not stop the others; it is retried next cycle.
                log.exception("job %s failed", job.name)
            elapsed = time.perf_counter() - started
            self.runtime.metrics.job_cycle.labels(job.name).observe(elapsed)
            if elapsed > slow:
                self.runtime.metrics.slow_cycles.labels(job.name).inc()
                log.warning(
                    "job %s took %.2fs (> %.2fs): engine possibly stuck or overloaded",
                    job.name, elapsed, slow,
                )
        return total

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker %s started with jobs: %s", self.worker_id,
                 ", ".join(j.name for j in self.jobs))
        while not stop.is_set():
            work = self.run_cycle()
            # Idle: sleep a poll interval, or less when new messages commit (Runtime.wake).
            if work == 0 and self.runtime.wake.wait(self.runtime.settings.worker_poll_interval):
                self.runtime.wake.clear()
        log.info("worker %s stopped", self.worker_id)
