"""Group commit of accepted events into the inbox.

Requests arriving together share one transaction: one multi-row INSERT, one commit, then
every request of the batch is answered — a 2xx only ever follows the commit that made its
row durable. On SQLite that commit is `synchronous=FULL` (the WAL is fsynced), so an
accepted event survives a power cut, not only a crash of the process; grouping is what
makes the fsync affordable (one per batch, not per event). One thread writes, the waiting
requests sleep on asyncio futures instead of SQLite's polling busy handler.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Connection, insert, text
from starlette.concurrency import run_in_threadpool

from tocsin.intake.models import InboxRow
from tocsin.notify.service import NOTIFY_CHANNEL
from tocsin.runtime import Runtime

# Most rows in one transaction; bounded so one commit's latency stays small.
MAX_BATCH = 512


class InboxWriter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] = \
            asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def submit(self, row: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done():
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
                await run_in_threadpool(self.insert, [row for row, _f in jobs])
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
        with rt.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                _pragma(conn, "PRAGMA synchronous=FULL")
            try:
                with conn.begin():
                    conn.execute(insert(InboxRow), rows)
                    if not sqlite:  # separate worker processes LISTEN for this
                        conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
            finally:
                if sqlite:
                    _pragma(conn, "PRAGMA synchronous=NORMAL")
        rt.wake.set()


def _pragma(conn: Connection, statement: str) -> None:
    # On the driver connection, outside SQLAlchemy's transaction: the engine's "begin"
    # hook would otherwise take SQLite's write lock just to change a setting.
    driver: Any = conn.connection.driver_connection
    driver.execute(statement)
