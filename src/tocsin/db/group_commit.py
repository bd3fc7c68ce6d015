"""Group commit: many concurrent callers' items written in one transaction, each caller
answered after the commit that holds its item.

A caller waits (`await submit(item)`) until its item is durable, yet a burst costs one
commit instead of one each: the items submitted in one pass of an event loop are handed over
together, and one thread of its own takes whatever items are waiting (up to `max_batch`)
and writes them with one call. Handing over per pass, not per item, keeps the writer from
waking for the first item of a burst and writing it alone. On SQLite the callers then wait on asyncio
futures instead of fighting over the write lock in SQLite's polling busy handler. If the
batch's write fails, every caller of the batch gets the error: none is answered as stored
that was not.

Each waiting caller holds a future of its own event loop; a batch is settled with one call
into each loop, not one thread-safe wake-up per item. Used by intake (intake/writer.py) and
heartbeat pings (heartbeats/writer.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
# Per item of a batch: None (stored), or the error its caller gets.
Result = BaseException | None
# How a batch is written: in one transaction; returns each item's result, or None when all
# were stored. An exception fails the whole batch.
WriteBatch = Callable[[list[T]], Sequence[Result] | None]
_Settled = tuple["asyncio.Future[None]", Result]
# An item and the future its caller waits on.
_Waiting = tuple[T, "asyncio.Future[None]"]


class GroupCommit(Generic[T]):
    def __init__(self, write: WriteBatch[T], *, max_batch: int, name: str) -> None:
        self._write = write
        self._max_batch = max_batch
        self._name = name
        self._queue: queue.SimpleQueue[list[_Waiting[T]]] = queue.SimpleQueue()
        # Per event loop, the items submitted in its current pass (each loop only touches
        # its own entry, from its own thread).
        self._gathering: dict[asyncio.AbstractEventLoop, list[_Waiting[T]]] = {}
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    async def submit(self, item: T) -> None:
        """Return once `item` is committed; raise the error that failed it or its batch."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        gathering = self._gathering.get(loop)
        if gathering is None:
            gathering = self._gathering[loop] = []
            loop.call_soon(self._hand_over, loop)
        gathering.append((item, done))
        await done

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        items = self._gathering.pop(loop)
        if self._thread is None or not self._thread.is_alive():
            self._start()
        self._queue.put(items)

    def _start(self) -> None:
        # The thread starts with the first items, and again if something fatal stopped it.
        with self._starting:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self._name,
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            batch = self._queue.get()
            while len(batch) < self._max_batch:
                try:
                    batch += self._queue.get_nowait()
                except queue.Empty:
                    break
            for start in range(0, len(batch), self._max_batch):
                self._commit(batch[start:start + self._max_batch])

    def _commit(self, batch: list[_Waiting[T]]) -> None:
        results: Sequence[Result]
        try:
            found = self._write([item for item, _done in batch])
            results = found if found is not None else [None] * len(batch)
        except Exception as exc:
            results = [exc] * len(batch)
        except BaseException:  # the thread stops: nobody in this batch was stored
            _settle_all(batch, [RuntimeError(f"{self._name} stopped")] * len(batch))
            raise
        _settle_all(batch, results)


def _settle_all(batch: list[_Waiting[T]], results: Sequence[Result]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Settled]] = {}
    for (_item, done), result in zip(batch, results, strict=True):
        by_loop.setdefault(done.get_loop(), []).append((done, result))
    for loop, settled in by_loop.items():
        # A closed loop (RuntimeError) has nobody waiting for these any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[_Settled]) -> None:
    for done, result in settled:
        if done.done():  # the caller was cancelled (client gone)
            continue
        if result is None:
            done.set_result(None)
        else:
            done.set_exception(result)
