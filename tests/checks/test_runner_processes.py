"""Two check runner processes share the checks through the database claim: each due run is
done by exactly one of them (the loopback server counts the requests of every check), a
killed child is restarted, and children die with a killed parent (no orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from tests.checks import servers
from tocsin.checks.models import Check
from tocsin.checks.processes import RunnerProcesses
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime

CHECKS = 200
WAIT = 60.0  # generous: a deadline for a condition, not a timing assertion


def wait_for(condition: Callable[[], bool], what: str, poll: Callable[[], object] = lambda: None
             ) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        poll()
        time.sleep(0.1)


def add_checks(runtime: Runtime, service_id: int, url: str, n: int) -> None:
    """`n` checks of /c/<i> (the server answers 404, which these checks expect), all due now
    by the real clock, at an hour's interval: each run below is one interval."""
    due = datetime.now(UTC) - timedelta(seconds=1)
    rows = [{"name": f"c{i}", "kind": "http", "service_id": service_id,
             "interval_seconds": 3600, "timeout_seconds": 5.0,
             "config": {"url": f"{url}/c/{i}", "method": "GET", "headers": {},
                        "expected_status": [404], "follow_redirects": True, "verify_tls": True},
             "locations": ["server"], "on_server": True, "confirm_failures": 1, "enabled": True,
             "status": "up", "created_at": due, "next_due_at": due} for i in range(n)]
    with runtime.sessions() as s, s.begin():
        s.execute(insert(Check), rows)


def make_all_due(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        s.execute(update(Check).values(next_due_at=datetime.now(UTC) - timedelta(seconds=1)))


@pytest.fixture
def child_settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    # Few slots per process, so neither can claim every check in one go.
    return make_settings(database_url=database_url, check_concurrency=2)


@pytest.fixture
def processes(child_settings: Settings) -> Iterator[RunnerProcesses]:
    procs = RunnerProcesses(child_settings, 2, build=build_runtime)
    yield procs
    procs.stop()


def both_running(procs: RunnerProcesses) -> bool:
    return len(procs.per_process()) == 2


def test_two_processes_run_each_due_check_once_per_interval(
        runtime: Runtime, service_id: int, processes: RunnerProcesses,
        http_server: servers.LoopbackServer) -> None:
    assert processes.ensure() == 2
    # Reports come back once a child's runner is up; then make the checks due.
    wait_for(lambda: both_running(processes), "both children", processes.ensure)
    add_checks(runtime, service_id, http_server.url(""), CHECKS)

    def requests() -> Counter[str]:
        return Counter(http_server.hits)

    wait_for(lambda: len(requests()) == CHECKS, "every check's first run", processes.ensure)
    make_all_due(runtime)  # the next interval
    wait_for(lambda: min(requests().values()) >= 2, "every check's second run",
             processes.ensure)
    per_process = processes.per_process()
    processes.stop()  # waits for claimed runs to finish: a double run would be counted now

    assert sorted(set(requests().values())) == [2], "a check ran twice in one interval"
    assert len(requests()) == CHECKS
    assert len(per_process) == 2 and all(n > 0 for n in per_process.values()), per_process
    assert processes.stats().started == 2 * CHECKS


def test_a_killed_child_is_restarted(processes: RunnerProcesses) -> None:
    processes.ensure()
    wait_for(lambda: both_running(processes), "both children", processes.ensure)
    victim = processes.pids[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: not processes.alive, "the child's death")
    assert processes.ensure() == 1
    assert victim not in processes.pids and len(processes.pids) == 2
    assert processes.restarts == 1
    wait_for(lambda: both_running(processes), "the new child", processes.ensure)


def gone(pid: int) -> bool:
    """Exited (or a zombie waiting for whoever adopted it to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def runner_children(pid: int) -> list[int]:
    """The check runner processes `pid` spawned (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def test_worker_runs_checks_in_child_processes_that_die_with_it(
        runtime: Runtime, service_id: int, settings: Settings,
        http_server: servers.LoopbackServer) -> None:
    add_checks(runtime, service_id, http_server.url(""), 20)
    env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(settings.data_dir),
           "TOCSIN_DATABASE_URL": settings.effective_database_url}
    tocsin = str(Path(sys.executable).parent / "tocsin")
    worker = subprocess.Popen([tocsin, "worker", "--check-processes", "2"], env=env)
    try:
        wait_for(lambda: len(runner_children(worker.pid)) >= 2 or worker.poll() is not None,
                 "the worker's runner processes")
        assert worker.poll() is None, "the worker exited"
        children = runner_children(worker.pid)
        wait_for(lambda: len(set(http_server.hits)) == 20, "the checks run by the children")
    finally:
        worker.kill()  # SIGKILL: no chance to clean up; the children notice on their own
        worker.wait()
    wait_for(lambda: all(gone(pid) for pid in children), "the orphaned children to exit")
