"""The runner starts each claimed check at its due time, never more than its concurrency at
once, the ones kept waiting oldest first; and it collects garbage less eagerly while it runs."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tocsin.checks.models import CheckKind
from tocsin.checks.runner import Slots, relax_gc
from tocsin.checks.service import Claimed

DUE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def claimed(check_id: int) -> Claimed:
    return Claimed(check_id, CheckKind.HTTP, "{}", 1.0, DUE)


def test_no_more_than_the_slots_run_at_once_and_the_waiting_start_in_order() -> None:
    started: list[int] = []
    running = 0
    most = 0

    async def go() -> None:
        release = asyncio.Event()

        async def run(item: Claimed) -> None:
            nonlocal running, most
            started.append(item.id)
            running += 1
            most = max(most, running)
            await release.wait()
            running -= 1

        slots = Slots(2, run)
        loop = asyncio.get_running_loop()
        for i in range(5):
            slots.add(claimed(i), 0, loop)
        await asyncio.sleep(0.05)
        assert started == [0, 1] and slots.pending == 5
        release.set()
        while slots.pending:
            await asyncio.sleep(0.01)

    asyncio.run(go())
    assert started == [0, 1, 2, 3, 4] and most == 2


def test_a_check_claimed_ahead_starts_at_its_time() -> None:
    started: dict[int, float] = {}

    async def go() -> None:
        loop = asyncio.get_running_loop()

        async def run(item: Claimed) -> None:
            started[item.id] = loop.time()

        slots = Slots(10, run)
        t0 = loop.time()
        slots.add(claimed(1), 0.2, loop)
        slots.add(claimed(2), 0, loop)
        assert slots.pending == 2  # the one not due yet counts as pending
        await asyncio.sleep(0.1)
        assert 1 not in started and slots.pending == 1
        while slots.pending:
            await asyncio.sleep(0.01)
        assert started[1] - t0 >= 0.2 > started[2] - t0

    asyncio.run(go())


def test_nothing_starts_after_close() -> None:
    started: list[int] = []

    async def go() -> None:
        loop = asyncio.get_running_loop()
        release = asyncio.Event()

        async def run(item: Claimed) -> None:
            started.append(item.id)
            await release.wait()

        slots = Slots(1, run)
        slots.add(claimed(1), 0, loop)
        slots.add(claimed(2), 0, loop)  # waits for the slot
        slots.add(claimed(3), 0.05, loop)  # waits for its time
        await asyncio.sleep(0.01)
        slots.close()
        release.set()
        await asyncio.sleep(0.1)
        assert slots.pending == 0

    asyncio.run(go())
    assert started == [1]


@pytest.fixture
def gc_threshold() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_relax_gc_raises_a_lower_threshold_only(gc_threshold: None) -> None:
    gc.set_threshold(700, 10, 10)
    relax_gc(5000)
    assert gc.get_threshold() == (5000, 10, 10)
    gc.set_threshold(50_000, 10, 10)
    relax_gc(5000)
    assert gc.get_threshold() == (50_000, 10, 10)
    gc.set_threshold(0, 10, 10)  # collection switched off by whoever runs the process
    relax_gc(5000)
    assert gc.get_threshold() == (0, 10, 10)
