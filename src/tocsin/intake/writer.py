"""Group commit of accepted events into the inbox.

Requests arriving together share one transaction: one multi-row INSERT, one commit, then
every request of the batch is answered — a 2xx only ever follows the commit that made its
row durable. On SQLite the commit reaches the write-ahead log, so an accepted event survives
any crash of Tocsin; with `intake_sqlite_synchronous = "full"` the log is also fsynced per
batch, so it survives a power cut (grouping is what keeps that affordable: one fsync per
batch, not per event). One thread writes; waiting requests sleep on asyncio futures instead
of SQLite's polling busy handler.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, insert

from tocsin.db.wakeup import NOTIFY
from tocsin.db.write_lock import write_lock
from tocsin.intake.models import InboxRow
from tocsin.runtime import Runtime

# Most rows in one transaction; bounded so one commit's latency stays small.
MAX_BATCH = 512


class InboxWriter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = \
            asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        # One thread of its own: batches are written one after the other anyway, and a
        # plain executor hands work over with less overhead than the shared thread pool.
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="tocsin-inbox")

    async def submit(self, row: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            # First use, or the app now runs on another event loop (a restarted test
            # client): a queue belongs to one loop.
            self.queue = asyncio.Queue()
            self.task = loop.create_task(self._run())
        future: asyncio.Future[None] = loop.create_future()
        self.queue.put_nowait((row, future))
        await future

    async def _run(self) -> None:
        while True:
            jobs = [await self.queue.get()]
            while len(jobs) < MAX_BATCH and not self.queue.empty():
                jobs.append(self.queue.get_nowait())
            try:
                await asyncio.get_running_loop().run_in_executor(
                    self.executor, self.insert, [row for row, _f in jobs])
            except BaseException as exc:  # the commit failed: nobody was accepted
                error = exc if isinstance(exc, Exception) else RuntimeError("intake stopped")
                for _row, future in jobs:
                    if not future.done():
                        future.set_exception(error)
                if not isinstance(exc, Exception):
                    raise
                continue
            for _row, future in jobs:
                if not future.done():
                    future.set_result(None)

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """INSERT the rows in one transaction and wake the processor after the commit."""
        rt = self.runtime
        with write_lock(rt.engine, urgent=True), rt.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            full = sqlite and rt.settings.intake_sqlite_synchronous == "full"
            if full:
                _pragma(conn, "PRAGMA synchronous=FULL")
            try:
                with conn.begin():
                    conn.execute(insert(InboxRow), rows)
                    if not sqlite:  # separate worker processes LISTEN for this
                        conn.execute(NOTIFY)
            finally:
                if full:
                    _pragma(conn, "PRAGMA synchronous=NORMAL")
        rt.wakeups.inbox_written()


def _pragma(conn: Connection, statement: str) -> None:
    # On the driver connection, outside SQLAlchemy's transaction: the engine's "begin"
    # hook would otherwise take SQLite's write lock just to change a setting.
    driver: Any = conn.connection.driver_connection
    driver.execute(statement)
