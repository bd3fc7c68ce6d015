"""Group commit for pings: many concurrent pings, one transaction, each answered after it.

Every ping is still durable before its answer (the caller waits for the commit that holds
it), but a burst of pings costs one commit instead of one each — and on SQLite the request
threads no longer fight over the write lock (whose busy handler sleeps up to 100 ms a turn).
If the batch's transaction fails, every ping in it gets the error (a 500, so the sender
retries); none is reported stored that was not.

Each waiting request holds a future of its own event loop; the writer settles a whole batch
with one call into each loop, not one thread-safe wake-up per ping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from tocsin.errors import NotFound
from tocsin.heartbeats.models import PingKind
from tocsin.heartbeats.recording import PingIn, record_pings
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.heartbeats")
MAX_BATCH = 500
Outcome = tuple["asyncio.Future[None]", BaseException | None]


@dataclass(frozen=True, slots=True)
class PendingPing(PingIn):
    done: asyncio.Future[None]  # of the waiting request's loop


class PingWriter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._queue: queue.SimpleQueue[PendingPing] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="tocsin-pings", daemon=True)
        self._thread.start()

    async def store(self, key: str, kind: PingKind, exit_code: int | None, body: bytes,
                    source_ip: str | None) -> None:
        """Return once the ping is committed; raise NotFound for an unknown key, or the
        error that failed its batch."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put(PendingPing(key, kind, exit_code, body, source_ip, done))
        await done

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[PendingPing]) -> None:
        rt = self.runtime
        outcomes: list[BaseException | None]
        try:
            with rt.sessions() as session, session.begin():
                found = record_pings(session, batch, now=rt.clock.now(), settings=rt.settings)
            outcomes = [None if ok else NotFound("no heartbeat with this ping URL")
                        for ok in found]
        except Exception as exc:
            log.exception("could not store %d pings", len(batch))
            outcomes = [exc] * len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
        for p, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(p.done.get_loop(), []).append((p.done, outcome))
        for loop, settled in by_loop.items():
            # A closed loop (RuntimeError) has nobody waiting for these any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: list[Outcome]) -> None:
    for done, exc in outcomes:
        if done.done():  # the request was cancelled (client gone)
            continue
        if exc is None:
            done.set_result(None)
        else:
            done.set_exception(exc)


def shared_writer(state: Any, runtime: Runtime) -> PingWriter:
    """The one writer of an app (`app.state`), started on the first ping."""
    writer: PingWriter | None = getattr(state, "ping_writer", None)
    if writer is None:
        writer = state.ping_writer = PingWriter(runtime)
    return writer
