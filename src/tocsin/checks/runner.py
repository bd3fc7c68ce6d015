"""The check runner: an asyncio scheduler in its own thread.

It claims due checks from the database (`next_due_at`, conditional update), runs them with a
concurrency limit, and writes results in batches. Checks are spread over their interval when
created (jitter) and keep their phase afterwards, so they do not fire in lock-step. The
database work runs in a helper thread (`asyncio.to_thread`) so slow commits never stall the
checks in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from tocsin.checks import recording
from tocsin.checks import service as checks
from tocsin.checks.execute import execute
from tocsin.checks.kinds.base import Resources
from tocsin.checks.models import SERVER_LOCATION
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.checks")

FLUSH_SECONDS = 0.5
FLUSH_SIZE = 1000
IDLE_SLEEP = 0.2
# Between claims while checks are in flight but nothing more is due: bounds lateness.
BUSY_SLEEP = 0.05


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (it comes with uvicorn[standard]): the runner's per-check cost
    is mostly event-loop work, and uvloop's callbacks, timers and sockets are cheaper."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - e.g. Windows
        return None
    return uvloop.new_event_loop


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
        try:
            with asyncio.Runner(loop_factory=loop_factory()) as runner:
                runner.run(self.run())
        except Exception:
            log.exception("check runner crashed; the worker restarts it")

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        resources = Resources(max_body_bytes=self.runtime.settings.check_max_body_bytes)
        in_flight: set[asyncio.Task[None]] = set()
        # Set when enough slots are free to be worth a claim: a claim is a write transaction,
        # so a saturated runner refills in batches, not one slot per finished check.
        room = asyncio.Event()
        refill_at = max(1, self.concurrency * 3 // 4)

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if len(in_flight) <= refill_at:
                room.set()

        last_flush = time.monotonic()
        backlog = False
        try:
            while not self._stop.is_set() and time.monotonic() < self._lease_until:
                free = self.concurrency - len(in_flight)
                claimed: list[checks.Claimed] = []
                # Peek with a read-only snapshot first: on SQLite a claim takes the write
                # lock, and an idle runner must not take it five times a second.
                if free > 0 and (backlog or await asyncio.to_thread(self._anything_due)):
                    claimed = await asyncio.to_thread(self._claim, free)
                backlog = free > 0 and len(claimed) == free
                for item in claimed:
                    task = asyncio.create_task(self._run_one(item, resources))
                    in_flight.add(task)
                    task.add_done_callback(finished)
                if self._buffer and (len(self._buffer) >= FLUSH_SIZE
                                     or time.monotonic() - last_flush >= FLUSH_SECONDS):
                    await self._flush()
                    last_flush = time.monotonic()
                if backlog or free <= 0:
                    # More is due than fits: wait for a quarter of the slots, not a fixed nap.
                    room.clear()
                    if len(in_flight) > refill_at:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(room.wait(), FLUSH_SECONDS)
                else:
                    await asyncio.sleep(IDLE_SLEEP if not in_flight else BUSY_SLEEP)
        finally:
            if in_flight:
                await asyncio.wait(in_flight, timeout=5)
            await self._flush()
            await resources.aclose()

    def _anything_due(self) -> bool:
        rt = self.runtime
        with rt.read_sessions() as session:
            due = checks.next_due_time(session)
        return due is not None and due <= rt.clock.now()

    def _claim(self, limit: int) -> list[checks.Claimed]:
        rt = self.runtime
        with rt.sessions() as session, session.begin():
            return checks.claim_due(session, now=rt.clock.now(), limit=limit)

    async def _run_one(self, item: checks.Claimed, resources: Resources) -> None:
        now = self.runtime.clock.now()
        self.stats.started += 1
        self.stats.lateness.append(max(0.0, (now - item.due_at).total_seconds()))
        outcome = await execute(item.kind, item.config, item.timeout, resources)
        self.stats.finished += 1
        self.stats.failed += 0 if outcome.ok else 1
        self._buffer.append(recording.Observation(
            check_id=item.id, location=SERVER_LOCATION, at=self.runtime.clock.now(),
            ok=outcome.ok, latency_ms=outcome.latency_ms, reason=outcome.reason))

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
