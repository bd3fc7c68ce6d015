"""Group commit of accepted events into the inbox (db/group_commit.py).

Requests arriving together share one transaction: one multi-row INSERT, one commit, then
every request of the batch is answered — a 2xx only ever follows the commit that made its
row durable. On SQLite the commit reaches the write-ahead log, so an accepted event survives
any crash of Tocsin; with `intake_sqlite_synchronous = "full"` the log is also fsynced per
batch, so it survives a power cut (grouping is what keeps that affordable: one fsync per
batch, not per event).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from tocsin.db.group_commit import GroupCommit
from tocsin.db.wakeup import NOTIFY
from tocsin.db.write_lock import write_lock
from tocsin.intake.models import InboxRow
from tocsin.runtime import Runtime

# Most rows in one transaction; bounded so one commit's latency stays small.
MAX_BATCH = 512


class InboxWriter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._batches = GroupCommit(self.insert, max_batch=MAX_BATCH, name="tocsin-inbox")

    async def submit(self, row: dict[str, Any]) -> None:
        """Return once `row` is committed; raise the error that failed its batch."""
        await self._batches.submit(row)

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
