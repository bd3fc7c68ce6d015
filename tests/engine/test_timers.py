"""Durable timers: scheduling by key, firing once, retries, failures, crash safety."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tocsin.clock import FrozenClock
from tocsin.engine import timers
from tocsin.engine.models import Timer, TimerStatus
from tocsin.engine.timers import PermanentTimerError, TimerContext
from tocsin.runtime import Runtime


def _fire(rt: Runtime, handlers: dict, limit: int = 100) -> timers.FireResult:  # type: ignore[type-arg]
    with rt.sessions() as s, s.begin():
        return timers.fire_due(s, now=rt.clock.now(), handlers=handlers, settings=rt.settings,
                               worker_id="test", limit=limit)


def test_same_key_replaces_pending_timer_and_bumps_generation(runtime: Runtime,
                                                              clock: FrozenClock) -> None:
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", key="thing:1", due_at=now, now=now)
        first = timers.pending(s, "thing:1")
        timers.schedule(s, kind="k", key="thing:1", due_at=now + timedelta(minutes=5), now=now)
        again = timers.pending(s, "thing:1")
        assert first is not None and again is first and again.generation == 2
        assert len(s.scalars(select(Timer)).all()) == 1


def test_due_timer_fires_once_and_frees_its_key(runtime: Runtime, clock: FrozenClock) -> None:
    seen: list[int] = []
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", key="x", due_at=now + timedelta(seconds=10), now=now)
    handlers = {"k": lambda ctx: seen.append(ctx.timer.generation)}
    assert _fire(runtime, handlers).fired == 0  # not due yet
    clock.advance(seconds=10)
    assert _fire(runtime, handlers).fired == 1
    assert _fire(runtime, handlers).fired == 0
    assert seen == [1]
    with runtime.sessions() as s, s.begin():
        assert timers.pending(s, "x") is None
        timers.schedule(s, kind="k", key="x", due_at=clock.now(), now=clock.now())


def test_cancel(runtime: Runtime, clock: FrozenClock) -> None:
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", key="c", due_at=now, now=now)
        assert timers.cancel(s, "c") is True
        assert timers.cancel(s, "c") is False
    assert _fire(runtime, {"k": lambda ctx: None}).fired == 0


def test_failing_handler_retries_with_backoff_then_fails_visibly(
        runtime: Runtime, clock: FrozenClock, make_settings: object) -> None:
    calls: list[int] = []

    def boom(ctx: TimerContext) -> None:
        calls.append(1)
        raise RuntimeError("smtp down")

    now = clock.now()
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", due_at=now, now=now)
    for _ in range(runtime.settings.timer_max_attempts):
        _fire(runtime, {"k": boom})
        clock.advance(minutes=10)
    with runtime.sessions() as s:
        timer = s.scalars(select(Timer)).one()
    assert timer.status == TimerStatus.FAILED.value
    assert "smtp down" in (timer.last_error or "")
    assert len(calls) == runtime.settings.timer_max_attempts


def test_handler_failure_rolls_back_only_its_own_writes(runtime: Runtime,
                                                       clock: FrozenClock) -> None:
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="bad", due_at=now, now=now)
        timers.schedule(s, kind="good", due_at=now, now=now)

    def bad(ctx: TimerContext) -> None:
        timers.schedule(ctx.session, kind="side", key="from-bad", due_at=ctx.now, now=ctx.now)
        raise PermanentTimerError("no such thing")

    def good(ctx: TimerContext) -> None:
        timers.schedule(ctx.session, kind="side", key="from-good", due_at=ctx.now + timedelta(1),
                        now=ctx.now)

    result = _fire(runtime, {"bad": bad, "good": good})
    assert (result.fired, result.failed) == (1, 1)
    with runtime.sessions() as s:
        assert timers.pending(s, "from-good") is not None
        assert timers.pending(s, "from-bad") is None


def test_crash_before_commit_leaves_timers_pending(runtime: Runtime, clock: FrozenClock) -> None:
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        for i in range(5):
            timers.schedule(s, kind="k", key=f"t{i}", due_at=now, now=now)
    fired: list[str] = []
    with pytest.raises(SystemExit), runtime.sessions() as s, s.begin():
        timers.fire_due(s, now=now, handlers={"k": lambda ctx: fired.append("x")},
                        settings=runtime.settings, worker_id="doomed", limit=100)
        raise SystemExit  # the process dies before COMMIT
    assert len(fired) == 5
    result = _fire(runtime, {"k": lambda ctx: None})
    assert result.fired == 5


def test_handler_may_reschedule_its_own_key(runtime: Runtime, clock: FrozenClock) -> None:
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", key="repeat", due_at=now, now=now)

    def again(ctx: TimerContext) -> None:
        timers.schedule(ctx.session, kind="k", key="repeat", due_at=ctx.now + timedelta(minutes=1),
                        now=ctx.now)

    assert _fire(runtime, {"k": again}).fired == 1
    with runtime.sessions() as s:
        nxt = timers.pending(s, "repeat")
        assert nxt is not None and nxt.due_at == now + timedelta(minutes=1)
    clock.advance(minutes=1)
    assert _fire(runtime, {"k": again}).fired == 1


def test_seconds_to_next_names_the_earliest_pending_timer(runtime: Runtime,
                                                          clock: FrozenClock) -> None:
    now = clock.now()
    with runtime.read_sessions() as s:
        assert timers.seconds_to_next(s, now) is None
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", key="late", due_at=now + timedelta(seconds=90), now=now)
        timers.schedule(s, kind="k", key="soon", due_at=now + timedelta(seconds=3), now=now)
        timers.cancel(s, "soon")
        timers.schedule(s, kind="k", due_at=now + timedelta(seconds=40), now=now)
    with runtime.read_sessions() as s:
        assert timers.seconds_to_next(s, now) == 40  # the cancelled one does not count


def test_timers_job_takes_no_write_transaction_until_one_is_due(runtime: Runtime,
                                                                 clock: FrozenClock) -> None:
    """The worker runs the timers job at every wake: with nothing due it only reads."""
    from sqlalchemy import event

    from tocsin.engine.worker import JobContext
    from tocsin.jobs import run_timers

    seen: list[int] = []
    writes: list[str] = []

    def count(_c: object, _cur: object, statement: str, *_: object) -> None:
        if statement.startswith(("BEGIN IMMEDIATE", "SELECT timers.id")):
            writes.append(statement.split()[0])

    ctx = JobContext(runtime, "test", {"k": lambda c: seen.append(c.timer.id)})
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", key="x", due_at=now + timedelta(seconds=10), now=now)
    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        assert run_timers(ctx) == 0
        assert writes == []  # neither the write lock (SQLite) nor the claiming query
        clock.advance(seconds=10)
        assert run_timers(ctx) == 1 and len(seen) == 1
        assert "SELECT" in writes
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
