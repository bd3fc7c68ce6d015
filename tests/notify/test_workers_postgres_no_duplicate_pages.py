"""Scale-out: two `tocsin worker` processes on PostgreSQL deliver every page to a real HTTP
receiver; one is killed with SIGKILL mid-run and nothing is lost, with at most the few
duplicates its unrecorded sends can cause."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import (
    LOOPBACK_ALLOWED,
    LOOPBACK_ALLOWED_ENV,
    STARTUP_SECONDS,
    _server_url,
    create_pg_database,
    drop_pg_database,
    pg_available,
)
from tests.notify.seed import declare_many, seed_paging
from tests.notify.servers import http_receiver
from tocsin.clock import SystemClock
from tocsin.db import migrate
from tocsin.notify.models import Message
from tocsin.runtime import Runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PAGES = 300


@pytest.fixture
def pg_runtime(tmp_path: Path) -> Iterator[Runtime]:
    server = _server_url()
    reason = pg_available(server)
    if reason:
        pytest.skip(reason)
    url = create_pg_database(server)
    rt = build_runtime(load_settings(env="dev", data_dir=tmp_path, database_url=url,
                                     outbound_allow=LOOPBACK_ALLOWED),
                       SystemClock())
    migrate.upgrade(rt.engine)
    yield rt
    rt.close()
    drop_pg_database(server, url)


def start_worker(rt: Runtime, tmp_path: Path, name: str, poll: str = "0.05",
                 log_level: str = "WARNING") -> subprocess.Popen[bytes]:
    env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp_path),
           "TOCSIN_DATABASE_URL": rt.settings.effective_database_url,
           "TOCSIN_SECRET_KEY": "x" * 32, "TOCSIN_WORKER_BATCH_SIZE": "5",
           "TOCSIN_WORKER_POLL_INTERVAL": poll, "TOCSIN_NOTIFY_LEASE_SECONDS": "5",
           "TOCSIN_NOTIFY_RATE_LIMIT_PER_MINUTE": "100000", "TOCSIN_LOG_LEVEL": log_level,
           "TOCSIN_NOTIFY_SEND_CONCURRENCY": "5", **LOOPBACK_ALLOWED_ENV}
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "tocsin", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def wait_started(tmp_path: Path, *names: str) -> None:
    """Until each worker has logged its start (imports done, jobs listed): on a loaded
    machine one worker can take seconds longer than another to start."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if all("started with jobs" in (tmp_path / f"{n}.log").read_text(errors="replace")
               for n in names):
            return
        time.sleep(0.1)
    raise AssertionError(f"workers {names} did not start within {STARTUP_SECONDS} s")


def sent(rt: Runtime) -> int:
    with rt.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Message)
                            .where(Message.status == "sent")) or 0)


def test_two_workers_one_killed_no_page_lost(pg_runtime: Runtime, tmp_path: Path) -> None:
    rt = pg_runtime
    with http_receiver(delay=0.01) as (got, url):
        seed = seed_paging(rt, webhook_url=url + "/page")
        a = start_worker(rt, tmp_path, "a", log_level="INFO")
        b = start_worker(rt, tmp_path, "b", log_level="INFO")
        try:
            # Both running before the pages are due, so both take part (otherwise the one
            # that started first could send them all).
            wait_started(tmp_path, "a", "b")
            declare_many(rt, service_id=seed["service_id"], count=PAGES, now=rt.clock.now())
            deadline = time.monotonic() + 60
            while len(got) < PAGES // 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            a.send_signal(signal.SIGKILL)
            a.wait()
            deadline = time.monotonic() + 90
            while sent(rt) < PAGES and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            for p in (a, b):
                if p.poll() is None:
                    p.terminate()
                    p.wait(timeout=30)
        keys = Counter(r.headers["Idempotency-Key"] for r in got)
    with rt.sessions() as s:
        statuses = Counter(s.scalars(select(Message.status)).all())
        workers = Counter(s.scalars(select(Message.claimed_by)).all())
    assert statuses == {"sent": PAGES}, statuses
    assert len(keys) == PAGES, "every page reached the receiver"
    duplicates = sum(n - 1 for n in keys.values())
    # Only sends the killed worker made but never recorded can repeat: at most its sends
    # in flight (TOCSIN_NOTIFY_SEND_CONCURRENCY).
    assert duplicates <= 5, keys.most_common(3)
    assert len(workers) == 2, "both workers did part of the work"


def test_separate_worker_wakes_on_notify(pg_runtime: Runtime, tmp_path: Path) -> None:
    """A worker polling only every 60 s (the longest allowed) still sends a new page well
    before its next poll: the transaction that wrote it issued NOTIFY, which the worker
    LISTENs for. The bound is generous (a loaded machine is slow); bench/paging.py measures
    the latency."""
    rt = pg_runtime
    with http_receiver() as (got, url):
        seed = seed_paging(rt, webhook_url=url + "/page")
        worker = start_worker(rt, tmp_path, "slow-poll", poll="60")
        try:
            time.sleep(10)  # let it start and go idle into its 60 s wait
            began = time.monotonic()
            declare_many(rt, service_id=seed["service_id"], count=1, now=rt.clock.now())
            deadline = began + 45
            while not got and time.monotonic() < deadline:
                time.sleep(0.01)
            took = time.monotonic() - began
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert got, "the page never arrived"
    assert took < 30, f"the page took {took:.2f} s: the worker did not wake on NOTIFY"
