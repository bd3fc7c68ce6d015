"""Engine jobs for detection: the check runner's supervisor, probe liveness, rollups, retention.

The runner is a long-lived asyncio loop in its own thread rather than a job: a job runs to
completion inside the worker's cycle, and a check waiting 10 s on a hanging target must not
hold back timers and paging. The supervisor job starts the runner when there is something to
run, restarts it if it died, and renews its lease every cycle; a runner whose worker stopped
cycling (process shutting down, a test that ran one cycle) winds down by itself.
"""

from __future__ import annotations

from sqlalchemy import select

from tocsin.checks import probes, rollup
from tocsin.checks.models import Check
from tocsin.checks.processes import RunnerProcesses
from tocsin.checks.runner import CheckRunner
from tocsin.engine.worker import JobContext


class RunnerSupervisor:
    """Keeps one check runner per runtime alive while the worker cycles: a thread, or
    `check_runner_processes` child processes when that is more than one (checks/processes.py)."""

    def __init__(self) -> None:
        self._runners: dict[int, CheckRunner] = {}
        self._processes: dict[int, RunnerProcesses] = {}

    def __call__(self, ctx: JobContext) -> int:
        key = id(ctx.runtime)
        count = ctx.runtime.settings.check_runner_processes
        runner = self._runners.get(key)
        procs = self._processes.get(key)
        if count == 1 and runner is not None and runner.alive:
            runner.renew()
            return 0
        if procs is not None and procs.alive:
            return procs.ensure()  # renews every child's lease
        with ctx.runtime.read_sessions() as session:
            wanted = session.scalars(select(Check.id).where(
                Check.on_server.is_(True), Check.enabled.is_(True)).limit(1)).first()
        if wanted is None:
            return 0
        if count > 1:
            build = ctx.runtime.factory
            if build is None:
                raise RuntimeError("check runner processes need a runtime built by "
                                   "tocsin.wiring.build_runtime")
            procs = self._processes.setdefault(
                key, RunnerProcesses(ctx.runtime.settings, count, build=build))
            return procs.ensure()
        runner = CheckRunner(ctx.runtime)
        runner.start()
        self._runners[key] = runner
        return 1


def probe_liveness(ctx: JobContext) -> int:
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        return len(probes.mark_silent_offline(session, now=rt.clock.now(), settings=rt.settings))


def check_rollups(ctx: JobContext) -> int:
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        return rollup.roll_up(session, now=rt.clock.now())


def check_retention(ctx: JobContext) -> int:
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        return rollup.purge(session, now=rt.clock.now(), settings=rt.settings)
