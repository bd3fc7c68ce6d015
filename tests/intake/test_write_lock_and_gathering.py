"""SQLite's write lock inside one process: a waiting accept, and delivery's claim, go before
the next triage batch; triage waits for them. And triage lets rows gather after a small
batch that ended moments ago, but not after a quiet moment or a full batch."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert

from tests.notify.seed import seed_paging
from tocsin.db.write_lock import WriteLock, write_lock
from tocsin.intake import processor
from tocsin.notify.models import Message
from tocsin.notify.pipeline import claim
from tocsin.runtime import Runtime


def test_waiting_accept_goes_before_triage() -> None:
    lock = WriteLock()
    order: list[str] = []
    holding = threading.Event()

    def triage_holder() -> None:
        with lock.bulk():
            holding.set()
            time.sleep(0.1)
            order.append("first triage")

    def accept() -> None:
        with lock.urgent():
            order.append("accept")

    def triage() -> None:
        with lock.bulk():
            order.append("second triage")

    first = threading.Thread(target=triage_holder)
    first.start()
    holding.wait()
    waiting_accept = threading.Thread(target=accept)
    waiting_accept.start()
    time.sleep(0.02)  # the accept is waiting for the lock before the second triage asks
    second = threading.Thread(target=triage)
    second.start()
    for t in (first, waiting_accept, second):
        t.join(30)
    assert order == ["first triage", "accept", "second triage"]


def test_delivery_claim_waits_for_the_triage_write_lock(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the write lock orders SQLite's single writer; PostgreSQL locks rows")
    claimed_at: list[float] = []
    seed = seed_paging(runtime, webhook_url="http://127.0.0.1:9/page")
    now = runtime.clock.now()
    with runtime.sessions() as s, s.begin():  # a page due: the claim needs the write lock
        s.execute(insert(Message), [{
            "idempotency_key": "due", "kind": "page", "status": "pending",
            "user_id": seed["users"][0], "contact_method_id": seed["methods"][0],
            "due_at": now, "attempts": 0, "payload": {}, "created_at": now}])

    def deliver() -> None:
        assert len(claim(runtime, worker_id="w", now=now, limit=10)) == 1
        claimed_at.append(time.monotonic())

    with write_lock(runtime.engine, urgent=False):
        worker = threading.Thread(target=deliver)
        worker.start()
        time.sleep(0.1)
        assert claimed_at == []  # blocked on the write lock, not in SQLite's busy handler
        released_at = time.monotonic()
    worker.join(30)
    assert claimed_at and claimed_at[0] >= released_at


def test_triage_gathers_rows_only_right_after_a_small_batch(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(processor.time, "sleep", slept.append)
    engine = runtime.engine
    now = time.monotonic()
    processor._LAST_BATCH[engine] = (now, 2)  # small, just ended: wait for more rows
    processor._gather(engine)
    assert len(slept) == 1 and 0 < slept[0] <= processor.GATHER_SECONDS
    processor._LAST_BATCH[engine] = (now, processor.GATHER_BELOW)  # a full one: go on
    processor._gather(engine)
    processor._LAST_BATCH[engine] = (now - 1, 1)  # after a quiet second: at once
    processor._gather(engine)
    processor._LAST_BATCH[engine] = (now, 0)  # found nothing: the next wake is new work
    processor._gather(engine)
    assert len(slept) == 1
