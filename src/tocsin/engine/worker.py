"""The worker: runs the explicit job list in order, cycle after cycle, timing each job.

A job may have a lane of its own (`Job.lane`): `run_forever` runs it in a separate thread,
woken by its own signal, so it neither waits behind the main loop's jobs (a long intake
triage run) nor holds them up. In its lane a job may leave work in flight between runs
(`JobContext.in_lane`; delivery's sends), and `Job.finish` winds that work up when the
worker stops. Called directly, `run_cycle` runs every job, lanes included, in list order,
each finishing what it started (tests drive the worker that way).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from tocsin.engine.timers import TimerHandler, seconds_to_next
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.engine")
# Shortest idle sleep of the main loop (seconds).
IDLE_FLOOR = 0.02


@dataclass
class JobContext:
    runtime: Runtime
    worker_id: str
    handlers: Mapping[str, TimerHandler]
    # Run in the job's own lane: the job may return with work still in flight, as its
    # signal wakes it again when that work needs it. Otherwise (run_cycle) it finishes
    # everything it started before returning.
    in_lane: bool = False
    # In a lane: what the job keeps between its runs there and its `finish` (the lane's
    # one context holds it; delivery's sends in flight).
    kept: object | None = None


@dataclass(frozen=True)
class Job:
    """A periodic job. `run` returns how much work it did (0 = idle); `every` is in seconds,
    0 meaning every cycle. `lane`: the signal that wakes this job in a thread of its own
    (None: it runs in the main loop). `finish`: run once in the lane when the worker stops,
    to wind up work the lane left in flight."""

    name: str
    run: Callable[[JobContext], int]
    every: float = 0.0
    lane: Callable[[Runtime], threading.Event] | None = None
    finish: Callable[[JobContext], int] | None = None


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Worker:
    runtime: Runtime
    jobs: Sequence[Job]
    handlers: Mapping[str, TimerHandler]
    worker_id: str = field(default_factory=default_worker_id)
    _next_run: dict[str, float] = field(default_factory=dict)

    def _context(self) -> JobContext:
        return JobContext(self.runtime, self.worker_id, self.handlers)

    def _run_job(self, job: Job, ctx: JobContext) -> int:
        slow = self.runtime.settings.slow_cycle_seconds
        started = time.perf_counter()
        work = 0
        try:
            work = job.run(ctx)
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
        return work

    def run_cycle(self, *, skip_lanes: bool = False) -> int:
        """Run every job that is due, in list order. Returns the total work done."""
        ctx = self._context()
        total = 0
        for job in self.jobs:
            if skip_lanes and job.lane is not None:
                continue
            mono = time.monotonic()
            if self._next_run.get(job.name, 0.0) > mono:
                continue
            self._next_run[job.name] = mono + job.every
            total += self._run_job(job, ctx)
        return total

    def _idle_seconds(self) -> float:
        """How long an idle main loop may sleep: a poll interval, or until the earliest
        pending timer is due, so a step due in 80 ms fires then and not up to a poll
        interval late. A floor keeps an overdue timer that another worker holds (PostgreSQL)
        from turning this into a busy loop."""
        poll = self.runtime.settings.worker_poll_interval
        if not self.handlers:
            return poll
        try:
            with self.runtime.read_sessions() as session:
                ahead = seconds_to_next(session, self.runtime.clock.now())
        except Exception:  # the next cycle's jobs will log what is wrong
            log.debug("could not read the next timer's due time", exc_info=True)
            return poll
        return poll if ahead is None else min(poll, max(IDLE_FLOOR, ahead))

    def run_lane(self, job: Job, stop: threading.Event) -> None:
        """Run `job` whenever its signal is set (or every poll interval) until `stop`, then
        its `finish`."""
        assert job.lane is not None
        signal = job.lane(self.runtime)
        ctx = replace(self._context(), in_lane=True)
        while not stop.is_set():
            # Cleared before running: a signal that arrives meanwhile means "run again".
            signal.clear()
            if self._run_job(job, ctx) == 0:
                signal.wait(self.runtime.settings.worker_poll_interval)
        if job.finish is not None:
            self._run_job(replace(job, run=job.finish), ctx)

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker %s started with jobs: %s", self.worker_id,
                 ", ".join(j.name for j in self.jobs))
        lane_jobs = [job for job in self.jobs if job.lane is not None]
        lanes = [threading.Thread(target=self.run_lane, args=(job, stop),
                                  name=f"tocsin-{job.name}", daemon=True) for job in lane_jobs]
        for lane in lanes:
            lane.start()
        signals = [self.runtime.wake, *(job.lane(self.runtime) for job in lane_jobs if job.lane)]

        def wake_all_on_stop() -> None:
            # Stopping must not wait for a poll interval (up to a minute) in any loop.
            stop.wait()
            for signal in signals:
                signal.set()

        threading.Thread(target=wake_all_on_stop, name="tocsin-stop", daemon=True).start()
        while not stop.is_set():
            work = self.run_cycle(skip_lanes=True)
            # Idle: sleep until the next timer is due (at most a poll interval), or less when
            # new work commits (Runtime.wake).
            if work == 0 and self.runtime.wake.wait(self._idle_seconds()):
                self.runtime.wake.clear()
        for lane in lanes:
            lane.join(timeout=10)
        log.info("worker %s stopped", self.worker_id)
