"""Reads run beside a request's own work, each in its own read-only session on a worker
thread, for pages made of independent parts (the metrics page's alert-noise part: mostly
time inside the database, which the driver spends without holding Python's interpreter
lock, so it overlaps the page's own computing on another core).

Only for reads that return few rows: fetching rows takes the lock back for each one, and
a thread doing that beside a busy one waits at every row (a read of 16,000 rows took 4-5
times longer beside the metrics page's computing than alone).

A part read beside sees its own snapshot, not the request's: use it only for parts that
need not agree row for row with the rest of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

# Bounded: under many concurrent pages, parts wait here rather than open ever more
# connections (each running part holds one).
THREADS = 4
_pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="tocsin-beside")


def read_beside(sessions: sessionmaker[Session], read: Callable[[Session], T]) -> Future[T]:
    """Start `read(session)` on a worker thread, in a session of `sessions` closed after it;
    `.result()` gives what it returned or raises what it raised."""
    def run() -> T:
        with sessions() as session:
            return read(session)
    return _pool.submit(run)
