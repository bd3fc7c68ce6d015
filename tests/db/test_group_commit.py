"""Group commit (db/group_commit.py): callers that arrive while a batch is being written share
the next one, each is answered only after its batch's write, an item may fail alone, and a
failed write fails every caller of its batch but not the next batch."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tocsin.db.group_commit import GroupCommit, Result


def test_callers_arriving_during_a_write_share_the_next_batch() -> None:
    batches: list[list[int]] = []
    first_started, release = threading.Event(), threading.Event()

    def write(items: list[int]) -> None:
        batches.append(list(items))
        if len(batches) == 1:
            first_started.set()
            release.wait(5)

    writer = GroupCommit(write, max_batch=100, name="test-writer")

    async def run() -> None:
        first = asyncio.ensure_future(writer.submit(0))
        await asyncio.to_thread(first_started.wait, 5)
        rest = [asyncio.ensure_future(writer.submit(i)) for i in range(1, 11)]
        await asyncio.sleep(0.05)
        assert not first.done() and not any(r.done() for r in rest)  # nothing written yet
        release.set()
        await asyncio.gather(first, *rest)

    asyncio.run(run())
    assert batches == [[0], list(range(1, 11))]


def test_an_item_fails_alone_and_a_failed_write_fails_its_whole_batch() -> None:
    def write(items: list[str]) -> list[Result]:
        if "boom" in items:
            raise RuntimeError("the transaction failed")
        return [LookupError(item) if item == "unknown" else None for item in items]

    writer = GroupCommit(write, max_batch=1, name="test-writer")

    async def run() -> None:
        await writer.submit("known")
        with pytest.raises(LookupError):
            await writer.submit("unknown")
        with pytest.raises(RuntimeError, match="transaction failed"):
            await writer.submit("boom")
        await writer.submit("known")  # the writer goes on after a failed batch

    asyncio.run(run())
