"""Separate processes on one SQLite file: the doorbell that wakes workers, the write lock
shared across processes, worker job selection, and `tocsin serve` running the engine and
delivery as supervised child processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from tests.conftest import LOOPBACK_ALLOWED, LOOPBACK_ALLOWED_ENV, STARTUP_SECONDS
from tests.notify.seed import seed_paging
from tests.notify.servers import Received, http_receiver
from tocsin.db import doorbell as bell
from tocsin.db import migrate
from tocsin.db.session import make_engine
from tocsin.db.write_lock import write_lock
from tocsin.server import StartupError, select_jobs
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

pytestmark = pytest.mark.skipif(not bell.supported(), reason="abstract Unix sockets: Linux")

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else "no output"
    return line.strip()


# ---- the doorbell --------------------------------------------------------------------------

LISTENER = """
    import sys, threading
    from tocsin.db.doorbell import Doorbell
    stop = threading.Event()
    bell = Doorbell(sys.argv[1])
    bell.listen(lambda what: print(what.decode(), flush=True), stop)
    print("ready", flush=True)
    sys.stdin.readline()
    stop.set()
"""


def test_a_ring_reaches_a_worker_in_another_process(tmp_path: Path) -> None:
    database = str(tmp_path / "tocsin.db")
    listener = _python(LISTENER, database)
    try:
        assert _line(listener) == "ready"
        ringer = bell.Doorbell(database)
        ringer.ring(bell.INBOX)
        assert _line(listener) == "i"
        ringer.ring(bell.OUTBOX)
        assert _line(listener) == "m"
        # The listener's own process is not rung by itself; a process with no listener
        # registered rings nobody, without error.
        assert bell.Doorbell(str(tmp_path / "other.db"))._listeners() == []
        bell.Doorbell(str(tmp_path / "other.db")).ring(bell.INBOX)
    finally:
        listener.kill()
        listener.wait(30)


def test_a_listener_that_died_is_dropped_from_the_registry(tmp_path: Path) -> None:
    database = str(tmp_path / "tocsin.db")
    listener = _python(LISTENER, database)
    assert _line(listener) == "ready"
    entry = Path(database + "-wake") / str(listener.pid)
    assert entry.exists()
    listener.kill()  # no chance to unregister
    listener.wait(30)
    bell.Doorbell(database).ring(bell.INBOX)
    assert not entry.exists()


def test_a_stopped_listener_unregisters(tmp_path: Path) -> None:
    database = str(tmp_path / "tocsin.db")
    stop = threading.Event()
    thread = bell.Doorbell(database).listen(lambda _what: None, stop)
    entry = Path(database + "-wake") / str(os.getpid())
    assert entry.exists()
    stop.set()
    thread.join(30)
    assert not entry.exists()


def test_no_doorbell_where_it_cannot_work() -> None:
    assert bell.for_database("postgresql+psycopg://x@127.0.0.1/db") is None
    assert bell.for_database("sqlite://") is None
    assert bell.for_database("sqlite:///:memory:") is None
    assert bell.for_database("sqlite:////tmp/x.db") is not None


# ---- the write lock across processes -----------------------------------------------------

HOLDER = """
    import sys, time
    from sqlalchemy import text
    from tocsin.db.session import make_engine
    from tocsin.db.write_lock import write_lock
    engine = make_engine("sqlite:///" + sys.argv[1])
    with write_lock(engine, urgent=False), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('holder')"))
        print("holding", flush=True)
        time.sleep(0.4)
    print("released", flush=True)
"""


def _impatient_engine(path: Path) -> Any:
    """An engine whose connections give up at once on a locked database (no busy wait)."""
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    return engine


def test_writers_in_two_processes_wait_for_the_write_lock_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "writers.db"
    engine = _impatient_engine(path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    holder = _python(HOLDER, str(path))
    try:
        assert _line(holder) == "holding"
        # Without the write lock this writer meets the other process's write lock at once.
        with pytest.raises(OperationalError, match="locked"), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('rude')"))
        # With it, it waits for the other process to release it, then writes.
        with write_lock(engine, urgent=True), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('polite')"))
        assert _line(holder) == "released"
    finally:
        holder.wait(30)
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT who FROM t ORDER BY rowid"))] == \
            ["holder", "polite"]
    engine.dispose()


WRITER = """
    import sys, time
    from sqlalchemy import text
    from tocsin.db.session import make_engine
    from tocsin.db.write_lock import write_lock
    engine = make_engine("sqlite:///" + sys.argv[1])
    accept = sys.argv[2] == "accept"
    print("waiting", flush=True)
    with write_lock(engine, urgent=accept), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (:who)"), {"who": sys.argv[2]})
    print("wrote", flush=True)
"""


def test_an_accept_in_another_process_goes_before_triage(tmp_path: Path) -> None:
    """The accepts-first order holds across processes: triage releasing the write lock and
    asking for it again at once lets an accept of another process, waiting meanwhile, write first
    (without the order, the process that just released the lock usually takes it again)."""
    path = tmp_path / "writers.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    accept = None
    try:
        with write_lock(engine, urgent=False), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('triage 1')"))
            accept = _python(WRITER, str(path), "accept")
            assert _line(accept) == "waiting"
            time.sleep(0.3)  # it is now blocked on the write lock, announced as waiting
        with write_lock(engine, urgent=False), engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('triage 2')"))
        assert _line(accept) == "wrote"
    finally:
        if accept is not None:
            accept.wait(30)
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT who FROM t ORDER BY rowid"))] == \
            ["triage 1", "accept", "triage 2"]
    engine.dispose()


# ---- worker job selection ------------------------------------------------------------------

def test_worker_job_selection() -> None:
    assert [j.name for j in select_jobs(only=["notify.deliver"])] == ["notify.deliver"]
    rest = [j.name for j in select_jobs(skip=["notify.deliver"])]
    assert "notify.deliver" not in rest and rest[:2] == ["intake.process", "timers"]
    with pytest.raises(StartupError, match=r"unknown job nope; the jobs are: intake\.process"):
        select_jobs(only=["nope"])


def test_worker_command_refuses_an_unknown_job(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    result = subprocess.run([sys.executable, "-m", "tocsin", "worker", "--only", "nope",
                             "--data-dir", str(tmp_path)], env=env, text=True,
                            capture_output=True, timeout=60)
    assert result.returncode == 2 and "unknown job nope" in result.stderr


# ---- tocsin serve in separate processes ----------------------------------------------------

def _children(pid: int) -> dict[int, str]:
    """Direct children of `pid` that are Tocsin workers: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if parent == str(pid) and "multiprocessing.spawn" in cmdline \
                and "resource_tracker" not in cmdline:
            found[int(entry.name)] = cmdline
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(what: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := what():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(settings: Any, hook: str) -> str:
    """A service whose PagerDuty integration pages a user by webhook at `hook`; returns the
    integration's routing key."""
    from tocsin.alerts import manage
    from tocsin.alerts.schemas import IntegrationCreate
    from tocsin.escalation import service as escalation
    from tocsin.escalation.schemas import ServicePoliciesIn
    from tocsin.incidents import lifecycle as lc

    rt = build_runtime(settings)
    try:
        migrate.upgrade(rt.engine)
        seed = seed_paging(rt, webhook_url=hook + "/page")
        with rt.sessions() as s, s.begin():
            escalation.set_service_policies(s, service_id=seed["service_id"],
                                            data=ServicePoliciesIn(policies={
                                                sev: seed["policy_id"] for sev in lc.Severity}))
            return manage.create_integration(s, now=rt.clock.now(), data=IntegrationCreate(
                service_id=seed["service_id"], kind="pagerduty", name="test")).key
    finally:
        rt.close()


@pytest.fixture
def paging_serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, str,
                                                   list[Received]]]:
    """`tocsin serve` (split, the default) on a SQLite file seeded with a service whose
    PagerDuty integration pages a user by webhook; yields (process, base URL, routing key,
    pages received)."""
    data = tmp_path / "data"
    secret = "serve-processes-test-" + "x" * 20
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(TOCSIN_DATA_DIR=str(data), TOCSIN_ENV="dev", TOCSIN_LOG_LEVEL="WARNING",
               TOCSIN_SECRET_KEY=secret, TOCSIN_NOTIFY_DEDUP_SECONDS="0", **LOOPBACK_ALLOWED_ENV)
    settings = load_settings(None, data_dir=data, env="dev", secret_key=secret,
                             outbound_allow=LOOPBACK_ALLOWED)
    with http_receiver() as (pages, hook):
        key = _seed(settings, hook)
        port = _free_port()
        log = (tmp_path / "serve.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "tocsin", "serve", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            def healthy() -> bool:
                try:
                    return httpx.get(base + "/api/v1/health", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False
            _wait_for(healthy, STARTUP_SECONDS)
            yield proc, base, key, pages
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(20)
            log.close()


def _post(base: str, key: str, dedup: str) -> None:
    r = httpx.post(base + "/v2/enqueue", json={
        "routing_key": key, "event_action": "trigger", "dedup_key": dedup,
        "payload": {"summary": f"disk full {dedup}", "source": "db1", "severity": "critical"}})
    assert r.status_code == 202, r.text


def _paged(pages: list[Received], dedup: str) -> bool:
    return any(f"disk full {dedup}" in json.loads(p.body).get("subject", "") for p in pages)


@pytest.mark.slow
def test_serve_runs_engine_and_delivery_as_supervised_children(
        paging_serve: tuple[subprocess.Popen[bytes], str, str, list[Received]]) -> None:
    proc, base, key, pages = paging_serve
    children = _wait_for(lambda: len(_children(proc.pid)) == 2 and _children(proc.pid))
    # An event accepted by the API process is triaged by the engine process and paged by the
    # delivery process: each woken by the doorbell, not a poll interval.
    _post(base, key, "one")
    _wait_for(lambda: _paged(pages, "one"))
    # A child killed outright is started again, and work goes on.
    victim = next(iter(children))
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: victim not in _children(proc.pid) and len(_children(proc.pid)) == 2)
    _post(base, key, "two")
    _wait_for(lambda: _paged(pages, "two"))
    # Killing `tocsin serve` outright (no chance to stop its children) still stops them.
    survivors = list(_children(proc.pid))
    proc.kill()
    proc.wait(30)
    _wait_for(lambda: not any(_alive(pid) for pid in survivors))


@pytest.mark.slow
def test_serve_stops_its_children_on_sigterm(
        paging_serve: tuple[subprocess.Popen[bytes], str, str, list[Received]]) -> None:
    proc, _base, _key, _pages = paging_serve
    children = list(_wait_for(lambda: len(_children(proc.pid)) == 2 and _children(proc.pid)))
    proc.terminate()
    # uvicorn stops gracefully, then re-raises the signal (exit status -SIGTERM); the
    # children were stopped on the way out, not left for their parent watch.
    assert proc.wait(30) in (0, -signal.SIGTERM)
    assert not any(_alive(pid) for pid in children)
