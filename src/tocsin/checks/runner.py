"""The check runner: an asyncio scheduler in its own thread.

It claims due checks from the database (`next_due_at`, conditional update), runs them with a
concurrency limit, and writes results in batches. Checks are spread over their interval when
created (jitter) and keep their phase afterwards, so they do not fire in lock-step. The
database work runs in a helper thread (`asyncio.to_thread`) so slow commits never stall the
checks in flight.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from tocsin.checks import recording
from tocsin.checks import service as checks
from tocsin.checks.execute import execute, parse_json
from tocsin.checks.kinds.base import Resources, failure
from tocsin.checks.models import SERVER_LOCATION
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.checks")

FLUSH_SECONDS = 0.5
FLUSH_SIZE = 1000
IDLE_SLEEP = 0.2
BUSY_SLEEP = 0.1
# Checks are claimed up to this far ahead of their due time and started on time, so the
# claim's transaction (and a commit queued behind it) is not part of their lateness.
LOOKAHEAD = timedelta(seconds=1)
# The cyclic garbage collector's first threshold once a runner has started in a process (left
# so when it stops; CPython's default: 700).
GC_YOUNG_THRESHOLD = 10_000
# Claimed checks waiting for their time or a free slot, per slot: bounds memory and how
# many claims a runner that falls behind holds back from others.
PENDING_PER_SLOT = 8


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (it comes with uvicorn[standard]): the runner's per-check cost
    is mostly event-loop work, and uvloop's callbacks, timers and sockets are cheaper."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - e.g. Windows
        return None
    return uvloop.new_event_loop


def relax_gc(young: int = GC_YOUNG_THRESHOLD) -> None:
    """Collect the youngest generation after `young` net new objects instead of 700.

    With the default, a collection ran every few checks and each check's objects (aiohttp's
    request, response, task, futures), alive for the milliseconds it runs, survived two of
    them and went to the oldest generation, which then filled up and was walked in full
    (the whole process) about once a second: a large share of the runner's CPU.
    Process-wide by nature (CPython has one collector): it never lowers a higher setting,
    and costs at most that many more objects held until the next collection.
    """
    first, second, third = gc.get_threshold()
    if 0 < first < young:
        gc.set_threshold(young, second, third)


class Slots:
    """Claimed checks until they finish: each starts at its due time when one of `size`
    slots is free, else as soon as one frees up, oldest first.

    Timer callbacks and a queue rather than a task per claimed check that sleeps until due
    and then waits on a semaphore: the sleep and the semaphore cost the runner CPU on every
    plain HTTP check.
    """

    def __init__(self, size: int, run: Callable[[checks.Claimed], Coroutine[Any, Any, None]]
                 ) -> None:
        self._size = size
        self._run = run
        self._timers = 0  # claimed, not due yet
        self._queue: deque[checks.Claimed] = deque()  # due, waiting for a slot
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def pending(self) -> int:
        """Claimed and not finished: waiting for their due time or a slot, or running."""
        return self._timers + len(self._queue) + len(self._running)

    def add(self, item: checks.Claimed, wait: float, loop: asyncio.AbstractEventLoop) -> None:
        if wait > 0:
            self._timers += 1
            loop.call_later(wait, self._timer_fired, item)
        else:
            self._due(item)

    def _timer_fired(self, item: checks.Claimed) -> None:
        if not self._closed:
            self._timers -= 1
            self._due(item)

    def close(self) -> None:
        """Start nothing more (the runner is stopping): what has not started is dropped, as
        a claimed run is when a runner dies; it runs again one interval on."""
        self._closed = True
        self._queue.clear()
        self._timers = 0

    def _due(self, item: checks.Claimed) -> None:
        if self._closed:
            return
        if len(self._running) < self._size:
            self._start(item)
        else:
            self._queue.append(item)

    def _start(self, item: checks.Claimed) -> None:
        task = asyncio.get_running_loop().create_task(self._run(item))
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._queue and not self._closed:
            self._start(self._queue.popleft())


@dataclass
class RunnerStats:
    started: int = 0
    finished: int = 0
    failed: int = 0
    # Seconds between a check's due time and its start; the last 100k, for p50/p99.
    lateness: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))


class CheckRunner:
    def __init__(self, runtime: Runtime, *, concurrency: int | None = None,
                 lease_seconds: float = 30.0) -> None:
        self.runtime = runtime
        self.concurrency = concurrency or runtime.settings.check_concurrency
        self.stats = RunnerStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lease_seconds = lease_seconds
        self._lease_until = time.monotonic() + lease_seconds
        self._buffer: list[recording.Observation] = []
        # Check id -> (settings as stored JSON text, parsed): validating costs more than
        # comparing.
        self._parsed: dict[int, tuple[str, BaseModel]] = {}

    # -- life cycle ------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def renew(self) -> None:
        """Called by the worker's job: a runner whose worker stopped cycling winds down."""
        self._lease_until = time.monotonic() + self._lease_seconds

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="tocsin-checks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self) -> None:
        relax_gc()
        try:
            with asyncio.Runner(loop_factory=loop_factory()) as runner:
                runner.run(self.run())
        except Exception:
            log.exception("check runner crashed; the worker restarts it")

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        resources = Resources(max_body_bytes=self.runtime.settings.check_max_body_bytes)
        slots = Slots(self.concurrency, lambda item: self._run_one(item, resources))
        most_pending = self.concurrency * PENDING_PER_SLOT
        flushing: asyncio.Task[None] | None = None
        last_flush = time.monotonic()
        backlog = False
        try:
            while not self._stop.is_set() and time.monotonic() < self._lease_until:
                room = most_pending - slots.pending
                claimed: list[checks.Claimed] = []
                # Peek with a read-only snapshot first: on SQLite a claim takes the write
                # lock, and an idle runner must not take it five times a second.
                if room > 0 and (backlog or await asyncio.to_thread(self._anything_due)):
                    claimed = await asyncio.to_thread(self._claim, room)
                backlog = room > 0 and len(claimed) == room
                now = self.runtime.clock.now()
                for item in claimed:
                    # Claimed a little ahead (LOOKAHEAD): start on time, not early.
                    slots.add(item, (item.due_at - now).total_seconds(), loop)
                flush_due = time.monotonic() - last_flush >= FLUSH_SECONDS
                if self._buffer and (flushing is None or flushing.done()) and (
                        flush_due or len(self._buffer) >= FLUSH_SIZE):
                    # In the background: the next claim must not wait for a commit.
                    flushing = asyncio.create_task(self._flush())
                    last_flush = time.monotonic()
                await asyncio.sleep(IDLE_SLEEP if not slots.pending else BUSY_SLEEP)
        finally:
            deadline = time.monotonic() + 5
            while slots.pending and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            slots.close()
            if flushing is not None:
                await flushing
            await self._flush()
            await resources.aclose()

    def _anything_due(self) -> bool:
        rt = self.runtime
        with rt.read_sessions() as session:
            due = checks.next_due_time(session)
        return due is not None and due <= rt.clock.now() + LOOKAHEAD

    def _claim(self, limit: int) -> list[checks.Claimed]:
        rt = self.runtime
        with rt.sessions() as session, session.begin():
            return checks.claim_due(session, now=rt.clock.now() + LOOKAHEAD, limit=limit)

    async def _run_one(self, item: checks.Claimed, resources: Resources) -> None:
        clock = self.runtime.clock
        self.stats.started += 1
        self.stats.lateness.append(max(0.0, (clock.now() - item.due_at).total_seconds()))
        settings = self._settings_of(item)
        outcome = (failure(settings) if isinstance(settings, str) else
                   await execute(item.kind, settings, item.timeout, resources))
        self.stats.finished += 1
        self.stats.failed += 0 if outcome.ok else 1
        self._buffer.append(recording.Observation(
            check_id=item.id, location=SERVER_LOCATION, at=clock.now(),
            ok=outcome.ok, latency_ms=outcome.latency_ms, reason=outcome.reason))

    def _settings_of(self, item: checks.Claimed) -> BaseModel | str:
        """The check's parsed settings (or why they are invalid), parsed again only when
        their stored text changed since its last run."""
        cached = self._parsed.get(item.id)
        if cached is not None and cached[0] == item.config_json:
            return cached[1]
        parsed = parse_json(item.kind, item.config_json)
        if not isinstance(parsed, str):
            self._parsed[item.id] = (item.config_json, parsed)
        return parsed

    async def _flush(self) -> None:
        batch, self._buffer = self._buffer, []
        if batch:
            try:
                await asyncio.to_thread(self._store, batch)
            except Exception:
                # Results are evidence, not state: losing one batch delays confirmation by
                # one interval; crashing the runner would stop every check.
                log.exception("could not store %d check results", len(batch))

    def _store(self, batch: list[recording.Observation]) -> None:
        rt = self.runtime
        now: datetime = rt.clock.now()
        with rt.sessions() as session, session.begin():
            recording.record(session, batch, now=now, settings=rt.settings)
