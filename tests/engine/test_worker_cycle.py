"""The worker runs its explicit job list in order, times each job and reports slow ones."""

import logging
import time

import pytest

from tocsin.engine.worker import Job, JobContext, Worker
from tocsin.runtime import Runtime


def test_jobs_run_in_order_and_interval_is_respected(runtime: Runtime) -> None:
    order: list[str] = []

    def job(name: str) -> Job:
        return Job(name, lambda ctx: order.append(name) or 1, every=3600 if name == "b" else 0)

    worker = Worker(runtime=runtime, jobs=[job("a"), job("b"), job("c")], handlers={})
    assert worker.run_cycle() == 3
    assert worker.run_cycle() == 2  # "b" waits an hour
    assert order == ["a", "b", "c", "a", "c"]


def test_slow_job_is_logged_and_counted(runtime: Runtime,
                                        caplog: pytest.LogCaptureFixture) -> None:
    runtime.settings.slow_cycle_seconds = 0.05

    def slow(ctx: JobContext) -> int:
        time.sleep(0.08)
        return 0

    with caplog.at_level(logging.WARNING, logger="tocsin.engine"):
        Worker(runtime=runtime, jobs=[Job("sluggish", slow)], handlers={}).run_cycle()
    assert "job sluggish took" in caplog.text and "possibly stuck" in caplog.text
    assert runtime.metrics.slow_cycles.labels("sluggish")._value.get() == 1


def test_a_failing_job_does_not_stop_the_others(runtime: Runtime,
                                                caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    def broken(ctx: JobContext) -> int:
        raise RuntimeError("bug")

    jobs = [Job("broken", broken), Job("fine", lambda ctx: ran.append("fine") or 0)]
    with caplog.at_level(logging.ERROR, logger="tocsin.engine"):
        Worker(runtime=runtime, jobs=jobs, handlers={}).run_cycle()
    assert ran == ["fine"] and "job broken failed" in caplog.text
