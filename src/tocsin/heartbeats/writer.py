"""Group commit for pings: many concurrent pings, one transaction, each answered after it.

Every ping is still durable before its answer (the caller waits for the commit that holds
it), but a burst of pings costs one commit instead of one each — and on SQLite the request
threads no longer fight over the write lock (whose busy handler sleeps up to 100 ms a turn).
If the batch's transaction fails, every ping in it gets the error (a 500, so the sender
retries); none is reported stored that was not.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from tocsin.errors import NotFound
from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.models import PingKind
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.heartbeats")
MAX_BATCH = 500


@dataclass
class PendingPing:
    key: str
    kind: PingKind
    exit_code: int | None
    body: bytes
    source_ip: str | None
    done: Future[None] = field(default_factory=Future)


class PingWriter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._queue: queue.Queue[PendingPing] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="tocsin-pings", daemon=True)
        self._thread.start()

    def submit(self, ping: PendingPing) -> Future[None]:
        self._queue.put(ping)
        return ping.done

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
        try:
            with rt.sessions() as session, session.begin():
                found = heartbeats.record_pings(
                    session, [heartbeats.PingIn(p.key, p.kind, p.exit_code, p.body, p.source_ip)
                              for p in batch], now=rt.clock.now(), settings=rt.settings)
        except Exception as exc:
            log.exception("could not store %d pings", len(batch))
            for p in batch:
                p.done.set_exception(exc)
            return
        for p, ok in zip(batch, found, strict=True):
            if ok:
                p.done.set_result(None)
            else:
                p.done.set_exception(NotFound("no heartbeat with this ping URL"))


def shared_writer(state: Any, runtime: Runtime) -> PingWriter:
    """The one writer of an app (`app.state`), started on the first ping."""
    writer: PingWriter | None = getattr(state, "ping_writer", None)
    if writer is None:
        writer = state.ping_writer = PingWriter(runtime)
    return writer
