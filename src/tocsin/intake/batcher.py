"""Group commit: intake requests arriving together share one transaction.

Each request's events are applied inside their own SAVEPOINT, so one bad request fails
alone; the batch then commits once and every request of it is answered — a 2xx only ever
follows the commit that made its events durable. This saves a transaction per request and,
on SQLite, keeps concurrent requests from queueing on the database lock's sleeping busy
handler: one thread writes, the others wait on an asyncio future.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from tocsin.alerts.service import IngestResult, ingest_event
from tocsin.runtime import Runtime

# Most requests folded into one transaction; bounded so one commit's latency stays small.
MAX_BATCH = 64


@dataclass
class Job:
    key: str
    kinds: tuple[str, ...]
    build: Any  # EventBuilder; Any avoids an import cycle with common.py
    raw: str
    future: asyncio.Future[list[IngestResult]] = field(repr=False)


class Batcher:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def submit(self, *, key: str, kinds: tuple[str, ...], build: Any,
                     raw: str) -> list[IngestResult]:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[list[IngestResult]] = asyncio.get_running_loop().create_future()
        await self.queue.put(Job(key, kinds, build, raw, future))
        return await future

    async def _run(self) -> None:
        while True:
            jobs = [await self.queue.get()]
            while len(jobs) < MAX_BATCH and not self.queue.empty():
                jobs.append(self.queue.get_nowait())
            try:
                outcomes = await run_in_threadpool(self._apply, jobs)
            except BaseException as exc:  # the commit failed: nobody was accepted
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc if isinstance(exc, Exception)
                                                 else RuntimeError("intake stopped"))
                if not isinstance(exc, Exception):
                    raise
                continue
            for job, outcome in zip(jobs, outcomes, strict=True):
                if job.future.done():
                    continue
                if isinstance(outcome, Exception):
                    job.future.set_exception(outcome)
                else:
                    job.future.set_result(outcome)

    def _apply(self, jobs: list[Job]) -> list[list[IngestResult] | Exception]:
        from tocsin.intake.common import find_integration

        rt = self.runtime
        now = rt.clock.now()
        outcomes: list[list[IngestResult] | Exception] = []
        with rt.sessions() as session, session.begin():
            for job in jobs:
                try:
                    with session.begin_nested():
                        integration = find_integration(session, job.key, job.kinds)
                        events = job.build(session, integration, now)
                        outcomes.append([ingest_event(session, e, now=now,
                                                      settings=rt.settings, raw=job.raw)
                                         for e in events])
                except Exception as exc:  # this request alone fails; its savepoint rolled back
                    outcomes.append(exc)
        return outcomes
