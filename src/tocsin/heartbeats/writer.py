"""Group commit for pings: many concurrent pings, one transaction, each answered after it.

Every ping is still durable before its answer (the caller waits for the commit that holds
it), but a burst of pings costs one commit instead of one each — and on SQLite the request
threads no longer fight over the write lock (whose busy handler sleeps up to 100 ms a turn).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from tocsin.errors import TocsinError
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
        outcomes: list[BaseException | None] = []
        try:
            with rt.sessions() as session, session.begin():
                now = rt.clock.now()
                for p in batch:
                    try:
                        # A savepoint per ping: one bad ping cannot undo the others.
                        with session.begin_nested():
                            heartbeats.ping(session, key=p.key, kind=p.kind,
                                            exit_code=p.exit_code, body=p.body, now=now,
                                            settings=rt.settings, source_ip=p.source_ip)
                        outcomes.append(None)
                    except TocsinError as exc:
                        outcomes.append(exc)
        except Exception as exc:
            log.exception("could not store %d pings", len(batch))
            for p in batch:
                p.done.set_exception(exc)
            return
        for p, outcome in zip(batch, outcomes, strict=True):
            if outcome is None:
                p.done.set_result(None)
            else:
                p.done.set_exception(outcome)
