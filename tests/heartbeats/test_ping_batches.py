"""A batch of pings (the group commit) ends exactly where the same pings sent one by one
would: heartbeat state, stored pings, alerts; and a plain ping costs one UPDATE, one row."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.clock import FrozenClock
from tocsin.errors import NotFound
from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats import writer as writer_module
from tocsin.heartbeats.models import Heartbeat, HeartbeatPing, PingKind
from tocsin.heartbeats.recording import PingIn, record_pings
from tocsin.heartbeats.schemas import HeartbeatCreate
from tocsin.heartbeats.writer import PingWriter
from tocsin.runtime import Runtime

START, SUCCESS, FAIL = PingKind.START, PingKind.SUCCESS, PingKind.FAIL
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def make_beat(runtime: Runtime, clock: FrozenClock) -> Callable[..., Heartbeat]:
    with runtime.sessions() as s, s.begin():
        service_id = catalog.create_service(s, data=ServiceCreate(name="batch"),
                                            now=clock.now()).id
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Heartbeat:
        data = {"name": f"job {next(counter)}", "service_id": service_id,
                "period_seconds": 3600, "grace_seconds": 300, **overrides}
        with runtime.sessions() as s, s.begin():
            return heartbeats.create_heartbeat(s, data=HeartbeatCreate(**data), now=clock.now(),
                                               settings=runtime.settings)

    return make


def record(runtime: Runtime, clock: FrozenClock, pings: list[PingIn]) -> list[bool]:
    with runtime.sessions() as s, s.begin():
        return record_pings(s, pings, now=clock.now(), settings=runtime.settings)


def outcome(runtime: Runtime, hb: Heartbeat) -> tuple[Any, ...]:
    """What the pings left behind for `hb`, with its name taken out so two heartbeats compare."""
    with runtime.sessions() as s:
        row = s.get_one(Heartbeat, hb.id)
        state = (row.status, row.due_at, row.last_ping_at, row.last_start_at,
                 row.last_duration_ms)
        pings = [(p.kind, p.exit_code, p.duration_ms, p.body) for p in s.scalars(
            select(HeartbeatPing).where(HeartbeatPing.heartbeat_id == hb.id)
            .order_by(HeartbeatPing.id))]
        alerts = [(a.status, a.summary.replace(hb.name, "NAME"), a.occurrences,
                   a.resolve_count) for a in s.scalars(
            select(Alert).where(Alert.dedup_key == f"heartbeat-{hb.id}").order_by(Alert.id))]
    return state, pings, alerts


# (kind, exit code) sent in this order: runs, failures and recoveries (alerts), exit codes.
SEQUENCE = [(SUCCESS, None), (START, None), (SUCCESS, None), (FAIL, None), (SUCCESS, 0), (START, None),
            (SUCCESS, 3), (START, None), (FAIL, None), (SUCCESS, None), (SUCCESS, None),
            (START, None), (SUCCESS, 0)]


def test_a_mixed_batch_ends_like_the_same_pings_one_by_one(
        runtime: Runtime, clock: FrozenClock, make_beat: Callable[..., Heartbeat]) -> None:
    batched, single = make_beat(), make_beat()
    plain_batched, plain_single = make_beat(period_seconds=60), make_beat(period_seconds=60)
    # An earlier run still open, so the batch's first success records a duration.
    for hb in (batched, single):
        record(runtime, clock, [PingIn(hb.key, START, None, b"", None)])
    clock.advance(seconds=42)

    batch: list[PingIn] = []
    for i, (kind, code) in enumerate(SEQUENCE):
        batch.append(PingIn(batched.key, kind, code, f"out {i}".encode(), "10.0.0.1"))
        batch.append(PingIn(plain_batched.key, SUCCESS, None, b"", None))  # the Core path
        if i % 4 == 0:
            batch.append(PingIn(UNKNOWN, SUCCESS, None, b"", None))
    found = record(runtime, clock, batch)
    assert found == [p.key != UNKNOWN for p in batch]

    for p in batch:
        key = {batched.key: single.key, plain_batched.key: plain_single.key}.get(p.key, p.key)
        alone = record(runtime, clock, [PingIn(key, p.kind, p.exit_code, p.body, p.source_ip)])
        assert alone == [key != UNKNOWN]

    assert outcome(runtime, batched) == outcome(runtime, single)
    assert outcome(runtime, plain_batched) == outcome(runtime, plain_single)
    state, pings, alerts = outcome(runtime, batched)
    assert state[0] == "up" and state[4] == 42_000  # runs within one instant have no duration
    assert pings[1] == ("success", None, 42_000, "out 0")
    # Failed and recovered twice (the fail while already failed raised nothing): one alert,
    # triggered and resolved twice.
    assert alerts == [("resolved", "NAME reported failure (exit code 3)", 2, 2)]


def test_a_plain_success_is_one_update_and_one_row(
        runtime: Runtime, clock: FrozenClock, make_beat: Callable[..., Heartbeat]) -> None:
    a, b = make_beat(), make_beat()
    record(runtime, clock, [PingIn(a.key, SUCCESS, None, b"", None),
                            PingIn(b.key, SUCCESS, None, b"", None)])
    clock.advance(seconds=600)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(runtime.engine, "before_cursor_execute", seen)
    try:
        record(runtime, clock, [PingIn(a.key, SUCCESS, None, b"1", None),
                                PingIn(b.key, SUCCESS, None, b"2", None),
                                PingIn(a.key, SUCCESS, None, b"3", None)])
    finally:
        event.remove(runtime.engine, "before_cursor_execute", seen)
    # One read, both heartbeats moved by one statement, the three pings stored by another.
    assert [v for v in statements if v in ("SELECT", "UPDATE", "INSERT")] == [
        "SELECT", "UPDATE", "INSERT"]
    with runtime.sessions() as s:
        assert s.get_one(Heartbeat, a.id).due_at == clock.now() + timedelta(seconds=3900)
        assert s.get_one(Heartbeat, b.id).last_ping_at == clock.now()
        assert [p.body for p in s.scalars(select(HeartbeatPing).order_by(HeartbeatPing.id))
                ] == ["", "", "1", "2", "3"]


def test_heartbeats_loaded_in_the_session_are_refreshed(
        runtime: Runtime, clock: FrozenClock, make_beat: Callable[..., Heartbeat]) -> None:
    hb = make_beat()
    with runtime.sessions() as s, s.begin():
        loaded = s.get_one(Heartbeat, hb.id)
        assert loaded.status == "new"
        record_pings(s, [PingIn(hb.key, SUCCESS, None, b"", None)], now=clock.now(),
                     settings=runtime.settings)
        assert loaded.status == "up" and loaded.last_ping_at == clock.now()


@pytest.fixture
def writer(runtime: Runtime) -> Iterator[PingWriter]:
    yield PingWriter(runtime)


def test_every_ping_of_a_failed_batch_gets_the_error(
        runtime: Runtime, writer: PingWriter, make_beat: Callable[..., Heartbeat],
        monkeypatch: pytest.MonkeyPatch) -> None:
    hb = make_beat()

    def broken(session: Session, pings: Any, **kw: Any) -> list[bool]:
        raise RuntimeError("disk on fire")

    async def send_three() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(writer.store(hb.key, SUCCESS, None, b"", None) for _ in range(3)),
            return_exceptions=True)
        return list(results)

    monkeypatch.setattr(writer_module, "record_pings", broken)
    assert [str(r) for r in asyncio.run(send_three())] == ["disk on fire"] * 3
    monkeypatch.undo()
    assert asyncio.run(send_three()) == [None] * 3
    with runtime.sessions() as s:
        assert len(s.scalars(select(HeartbeatPing)).all()) == 3


def test_unknown_keys_fail_alone_in_a_shared_batch(
        runtime: Runtime, writer: PingWriter, make_beat: Callable[..., Heartbeat]) -> None:
    hb = make_beat()

    async def mixed() -> list[BaseException | None]:
        return list(await asyncio.gather(
            writer.store(hb.key, START, None, b"", None),
            writer.store(UNKNOWN, SUCCESS, None, b"", None),
            writer.store(hb.key, SUCCESS, 0, b"", None), return_exceptions=True))

    first, unknown, last = asyncio.run(mixed())
    assert first is None and last is None and isinstance(unknown, NotFound)
