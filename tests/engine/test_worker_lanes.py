"""A job with a lane of its own runs in a separate thread, woken by its signal rather than
after the main loop's jobs, and its `finish` runs there once when the worker stops;
run_cycle, called directly, still runs it in list order."""

import threading

from tocsin.engine.worker import Job, JobContext, Worker
from tocsin.runtime import Runtime


def test_lane_job_runs_beside_a_busy_main_loop_when_signalled(runtime: Runtime) -> None:
    runtime.settings.worker_poll_interval = 60  # only the signal can wake the lane
    signal, stop = threading.Event(), threading.Event()
    release, first_run, lane_ran = threading.Event(), threading.Event(), threading.Event()
    runs: list[str] = []

    def busy(ctx: JobContext) -> int:
        release.wait(30)  # the main loop is stuck here until the lane has run
        return 0

    def lane(ctx: JobContext) -> int:
        runs.append(threading.current_thread().name)
        (lane_ran if first_run.is_set() else first_run).set()
        return 0

    worker = Worker(runtime=runtime, handlers={}, jobs=[
        Job("busy", busy), Job("deliver", lane, lane=lambda rt: signal)])
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        assert first_run.wait(30)  # the lane's first run, at start-up
        signal.set()
        assert lane_ran.wait(30), "the lane did not run while the main loop was busy"
    finally:
        release.set()
        stop.set()
        signal.set()
        runtime.wake.set()
        thread.join(30)
    assert not thread.is_alive()
    assert set(runs) == {"tocsin-deliver"}


def test_run_cycle_runs_lane_jobs_in_order(runtime: Runtime) -> None:
    order: list[str] = []
    signal = threading.Event()
    worker = Worker(runtime=runtime, handlers={}, jobs=[
        Job("a", lambda ctx: order.append("a") or 1),
        Job("lane", lambda ctx: order.append("lane") or 1, lane=lambda rt: signal),
        Job("b", lambda ctx: order.append("b") or 1)])
    assert worker.run_cycle() == 3
    assert worker.run_cycle(skip_lanes=True) == 2
    assert order == ["a", "lane", "b", "a", "b"]


def test_a_lane_job_runs_in_its_lane_and_finishes_when_the_worker_stops(
        runtime: Runtime) -> None:
    signal, stop = threading.Event(), threading.Event()
    seen: list[tuple[str, bool]] = []
    ran = threading.Event()

    def run(ctx: JobContext) -> int:
        seen.append(("run", ctx.in_lane))
        ran.set()
        return 0

    def finish(ctx: JobContext) -> int:
        seen.append(("finish", ctx.in_lane))
        return 0

    worker = Worker(runtime=runtime, handlers={}, jobs=[
        Job("deliver", run, lane=lambda rt: signal, finish=finish)])
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    assert ran.wait(30)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert seen[0] == ("run", True) and seen[-1] == ("finish", True)
    assert seen.count(("finish", True)) == 1
    worker.run_cycle()  # run directly: not in a lane, and nothing to finish
    assert seen[-1] == ("run", False)
