"""The check runner: an asyncio scheduler in its own thread.

It claims due checks from the database (`next_due_at`, conditional update), runs them with a
concurrency limit, and writes results in batches. Checks are spread over their interval when
created (jitter) and keep their phase afterwards, so they do not fire in lock-step. The
database work runs in a helper thread (`asyncio.to_thread`) so slow commits never stall the
checks in flight.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from tocsin.checks import recording
from tocsin.checks import service as checks
from tocsin.checks.execute import execute, parse
from tocsin.checks.kinds.base import Resources
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
        # Check id -> (settings as stored, parsed): validating costs more than comparing.
        self._parsed: dict[int, tuple[dict[str, Any], BaseModel]] = {}

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
        slots = asyncio.Semaphore(self.concurrency)
        # Claimed and not finished: waiting for their due time or a slot, or running.
        pending: set[asyncio.Task[None]] = set()
        most_pending = self.concurrency * PENDING_PER_SLOT
        flushing: asyncio.Task[None] | None = None
        last_flush = time.monotonic()
        backlog = False
        try:
            while not self._stop.is_set() and time.monotonic() < self._lease_until:
                room = most_pending - len(pending)
                claimed: list[checks.Claimed] = []
                # Peek with a read-only snapshot first: on SQLite a claim takes the write
                # lock, and an idle runner must not take it five times a second.
                if room > 0 and (backlog or await asyncio.to_thread(self._anything_due)):
                    claimed = await asyncio.to_thread(self._claim, room)
                backlog = room > 0 and len(claimed) == room
                for item in claimed:
                    task = asyncio.create_task(self._run_one(item, resources, slots))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                flush_due = time.monotonic() - last_flush >= FLUSH_SECONDS
                if self._buffer and (flushing is None or flushing.done()) and (
                        flush_due or len(self._buffer) >= FLUSH_SIZE):
                    # In the background: the next claim must not wait for a commit.
                    flushing = asyncio.create_task(self._flush())
                    last_flush = time.monotonic()
                await asyncio.sleep(IDLE_SLEEP if not pending else BUSY_SLEEP)
        finally:
            if pending:
                await asyncio.wait(pending, timeout=5)
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

    async def _run_one(self, item: checks.Claimed, resources: Resources,
                       slots: asyncio.Semaphore) -> None:
        wait = (item.due_at - self.runtime.clock.now()).total_seconds()
        if wait > 0:  # claimed a little ahead (LOOKAHEAD): start on time, not early
            await asyncio.sleep(wait)
        async with slots:
            now = self.runtime.clock.now()
            self.stats.started += 1
            self.stats.lateness.append(max(0.0, (now - item.due_at).total_seconds()))
            outcome = await execute(item.kind, self._settings_of(item), item.timeout, resources)
        self.stats.finished += 1
        self.stats.failed += 0 if outcome.ok else 1
        self._buffer.append(recording.Observation(
            check_id=item.id, location=SERVER_LOCATION, at=self.runtime.clock.now(),
            ok=outcome.ok, latency_ms=outcome.latency_ms, reason=outcome.reason))

    def _settings_of(self, item: checks.Claimed) -> BaseModel | dict[str, Any]:
        """The check's parsed settings, parsed again only when they changed since its last run."""
        cached = self._parsed.get(item.id)
        if cached is not None and cached[0] == item.config:
            return cached[1]
        parsed = parse(item.kind, item.config)
        if isinstance(parsed, str):
            return item.config  # execute() reports the problem
        self._parsed[item.id] = (item.config, parsed)
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
