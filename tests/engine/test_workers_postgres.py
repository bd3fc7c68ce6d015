"""Several `tocsin worker` processes on PostgreSQL: every due timer fires exactly once, and a
worker killed in the middle of a batch loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.conftest import (
    STARTUP_SECONDS,
    _server_url,
    create_pg_database,
    drop_pg_database,
    pg_available,
)
from tocsin.clock import FrozenClock, SystemClock
from tocsin.db import migrate
from tocsin.engine.models import Timer, TimerStatus
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import IncidentEvent
from tocsin.incidents.schemas import IncidentCreate
from tocsin.runtime import Runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def pg_runtime(tmp_path: Path) -> Iterator[Runtime]:
    server = _server_url()
    reason = pg_available(server)
    if reason:
        pytest.skip(reason)
    url = create_pg_database(server)
    settings = load_settings(env="dev", data_dir=tmp_path, database_url=url)
    rt = build_runtime(settings, SystemClock())
    migrate.upgrade(rt.engine)
    yield rt
    rt.close()
    drop_pg_database(server, url)


def _declare_overdue(rt: Runtime, count: int) -> None:
    """SEV1 incidents declared over a minute, 40 minutes ago: each has an update reminder
    already due, the older incidents' first."""
    past = FrozenClock(SystemClock().now() - timedelta(minutes=40))
    with rt.sessions() as s, s.begin():
        for i in range(count):
            past.advance(milliseconds=50)
            incidents.declare(s, actor=None, data=IncidentCreate(title=f"i{i}", severity="SEV1"),
                              now=past.now(), settings=rt.settings)


def _start_worker(rt: Runtime, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp_path),
           "TOCSIN_DATABASE_URL": rt.settings.effective_database_url,
           "TOCSIN_WORKER_BATCH_SIZE": "10", "TOCSIN_WORKER_POLL_INTERVAL": "0.05",
           "TOCSIN_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "tocsin", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _reminders(rt: Runtime) -> dict[int, int]:
    with rt.sessions() as s:
        rows = s.execute(select(IncidentEvent.incident_id, func.count())
                         .where(IncidentEvent.kind == lc.EventKind.UPDATE_DUE.value)
                         .group_by(IncidentEvent.incident_id)).all()
    return {incident_id: n for incident_id, n in rows}


def _wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_two_workers_race_for_1000_timers_each_fires_once(pg_runtime: Runtime,
                                                          tmp_path: Path) -> None:
    _declare_overdue(pg_runtime, 1000)
    workers = [_start_worker(pg_runtime, tmp_path, f"w{i}") for i in range(2)]
    try:
        assert _wait_for(lambda: sum(_reminders(pg_runtime).values()) >= 1000, 90), \
            (tmp_path / "w0.log").read_text()
        time.sleep(1.0)  # give a duplicate, if any, time to show up
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
    counts = _reminders(pg_runtime)
    assert len(counts) == 1000 and set(counts.values()) == {1}
    with pg_runtime.sessions() as s:
        rows = s.execute(select(Timer.fired_by, func.count()).where(
            Timer.kind == incidents.TIMER_UPDATE_DUE,
            Timer.status == TimerStatus.DONE.value).group_by(Timer.fired_by)).all()
    by_worker = {worker: n for worker, n in rows}
    assert sum(by_worker.values()) == 1000
    # Both processes took part: the race was real.
    assert len(by_worker) == 2, by_worker


def test_worker_killed_mid_batch_loses_nothing(pg_runtime: Runtime, tmp_path: Path) -> None:
    _declare_overdue(pg_runtime, 50)
    # Hold a row lock on one incident so the worker blocks inside its batch, with part of the
    # batch already handled but not committed; then kill it there.
    blocker = pg_runtime.engine.connect()
    tx = blocker.begin()
    # The 5th-oldest reminder: the worker's first batch handles four, then blocks.
    victim = blocker.execute(text("SELECT id FROM incidents ORDER BY id OFFSET 4 LIMIT 1")
                             ).scalar_one()
    blocker.execute(text("SELECT id FROM incidents WHERE id = :id FOR UPDATE"), {"id": victim})
    worker = _start_worker(pg_runtime, tmp_path, "doomed")
    try:
        def stuck_in_batch() -> bool:
            with pg_runtime.engine.connect() as c:
                return bool(c.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar_one())
        assert _wait_for(stuck_in_batch, 30)
        with pg_runtime.sessions() as s:
            # The four handled before the lock are invisible: not committed.
            assert s.scalar(select(func.count()).select_from(Timer).where(
                Timer.status == TimerStatus.DONE.value)) == 0
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        tx.rollback()
        blocker.close()
    assert sum(_reminders(pg_runtime).values()) == 0  # the killed batch left no trace
    restarted = _start_worker(pg_runtime, tmp_path, "restarted")
    try:
        assert _wait_for(lambda: sum(_reminders(pg_runtime).values()) >= 50, 60)
        time.sleep(0.5)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
    counts = _reminders(pg_runtime)
    assert len(counts) == 50 and set(counts.values()) == {1}


def test_scale_out_two_api_processes_and_a_worker(pg_runtime: Runtime, tmp_path: Path) -> None:
    """two `tocsin api` processes and `tocsin worker` on one PostgreSQL database: a write through one API
    is read through the other, and the separate worker fires its timers."""
    import socket

    import httpx

    from tocsin.accounts import service as accounts
    from tocsin.accounts.schemas import UserCreate
    from tocsin.principal import Role

    with pg_runtime.sessions() as s, s.begin():
        user = accounts.create_user(s, data=UserCreate(name="Op", email="op@example.com",
                                                       role=Role.ADMIN), now=SystemClock().now())
        _key, token = accounts.create_api_key(s, owner=user, name="t", scope=None,
                                              now=SystemClock().now())
    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp_path),
           "TOCSIN_DATABASE_URL": pg_runtime.settings.effective_database_url,
           "TOCSIN_SECRET_KEY": "shared-secret-for-all-processes-0123",
           "TOCSIN_RECOVERY_WATCH_MINUTES": '{"SEV4": 0}', "TOCSIN_LOG_LEVEL": "WARNING"}
    procs = [subprocess.Popen([sys.executable, "-m", "tocsin", "api", "--port", str(p)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in ports]
    procs.append(_start_worker(pg_runtime, tmp_path, "scale-worker"))
    headers = {"Authorization": f"Bearer {token}"}
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        def up() -> bool:
            try:
                return all(httpx.get(f"{u}/api/v1/health").status_code == 200 for u in urls)
            except httpx.HTTPError:
                return False
        assert _wait_for(up, STARTUP_SECONDS)
        inc = httpx.post(f"{urls[0]}/api/v1/incidents", headers=headers,
                         json={"title": "via api 1", "severity": "SEV4"}).json()
        r = httpx.post(f"{urls[1]}/api/v1/incidents/{inc['id']}/resolve", headers=headers,
                       json={})
        assert r.status_code == 200, r.text

        def watch_ended() -> bool:
            events = httpx.get(f"{urls[0]}/api/v1/incidents/{inc['id']}/timeline",
                               headers=headers).json()
            return any(e["kind"] == "recovery_watch_ended" for e in events)
        assert _wait_for(watch_ended, 30)  # fired by the separate worker process
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
