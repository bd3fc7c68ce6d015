"""The worker's `checks.runner` job starts the runner only when there is something to run,
restarts it after a crash, and a runner whose worker stopped cycling winds down."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tocsin.checks.jobs import RunnerSupervisor
from tocsin.checks.runner import CheckRunner
from tocsin.engine.worker import JobContext
from tocsin.jobs import TIMER_HANDLERS
from tocsin.runtime import Runtime


def test_supervisor_starts_only_with_server_checks_and_restarts(
        runtime: Runtime, make_check: Callable[..., dict[str, Any]]) -> None:
    supervise = RunnerSupervisor()
    ctx = JobContext(runtime, "test", TIMER_HANDLERS)
    assert supervise(ctx) == 0  # no checks: no thread
    make_check(locations=["eu-west"])
    assert supervise(ctx) == 0  # probe-only checks: nothing for the server to run
    make_check()
    assert supervise(ctx) == 1
    runner = supervise._runners[id(runtime)]
    assert runner.alive
    assert supervise(ctx) == 0  # alive: lease renewed, not restarted
    runner.stop()
    assert not runner.alive
    assert supervise(ctx) == 1 and supervise._runners[id(runtime)] is not runner
    supervise._runners[id(runtime)].stop()


def test_runner_without_a_renewed_lease_winds_down(runtime: Runtime,
                                                   make_check: Callable[..., dict[str, Any]]
                                                   ) -> None:
    make_check()
    runner = CheckRunner(runtime, lease_seconds=0.5)
    runner.start()
    deadline = time.monotonic() + 30
    while runner.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not runner.alive
