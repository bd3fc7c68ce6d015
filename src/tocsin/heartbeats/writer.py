"""Group commit for pings (db/group_commit.py): many concurrent pings, one transaction,
each answered after it.

Every ping is still durable before its answer (the caller waits for the commit that holds
it), but a burst of pings costs one commit instead of one each. If the batch's transaction
fails, every ping in it gets the error (a 500, so the sender retries); none is reported
stored that was not. An unknown key fails its own ping only (NotFound).
"""

from __future__ import annotations

import logging
from typing import Any

from tocsin.db.group_commit import GroupCommit, Result
from tocsin.errors import NotFound
from tocsin.heartbeats.models import PingKind
from tocsin.heartbeats.recording import PingIn, record_pings
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.heartbeats")
MAX_BATCH = 500


class PingWriter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._batches = GroupCommit(self._write, max_batch=MAX_BATCH, name="tocsin-pings")

    async def store(self, key: str, kind: PingKind, exit_code: int | None, body: bytes,
                    source_ip: str | None) -> None:
        """Return once the ping is committed; raise NotFound for an unknown key, or the
        error that failed its batch."""
        await self._batches.submit(PingIn(key, kind, exit_code, body, source_ip))

    def _write(self, batch: list[PingIn]) -> list[Result]:
        rt = self.runtime
        try:
            with rt.sessions() as session, session.begin():
                found = record_pings(session, batch, now=rt.clock.now(), settings=rt.settings)
        except Exception:
            log.exception("could not store %d pings", len(batch))
            raise
        return [None if ok else NotFound("no heartbeat with this ping URL") for ok in found]


def shared_writer(state: Any, runtime: Runtime) -> PingWriter:
    """The one writer of an app (`app.state`), started on the first ping."""
    writer: PingWriter | None = getattr(state, "ping_writer", None)
    if writer is None:
        writer = state.ping_writer = PingWriter(runtime)
    return writer
