"""Process entry points: the API server, the worker, or both together."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from tocsin.accounts import service as accounts
from tocsin.db import migrate
from tocsin.engine.worker import Job, Worker
from tocsin.heartbeats.fastlane import serve_pings_first
from tocsin.jobs import DELIVERY_JOB, JOBS, TIMER_HANDLERS
from tocsin.runtime import Runtime, build_runtime
from tocsin.settings import Settings, load_settings

log = logging.getLogger("tocsin")


class StartupError(Exception):
    """Startup cannot continue; the message is one line for the operator."""


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def open_runtime(settings: Settings, *, migrate_schema: bool) -> Runtime:
    """Connect, and migrate (or insist the schema is current). Raises StartupError."""
    runtime = build_runtime(settings)
    try:
        if migrate_schema:
            migrate.upgrade(runtime.engine)
        else:
            current, head = migrate.current_revision(runtime.engine), migrate.head_revision()
            if current != head:
                raise StartupError(
                    f"database schema is at {current or 'nothing'} but this version needs "
                    f"{head}; run `tocsin db upgrade` first")
    except migrate.MigrationError as exc:
        raise StartupError(str(exc)) from None
    except SQLAlchemyError as exc:
        raise StartupError(f"cannot open the database {settings.effective_database_url!r}: "
                           f"{str(exc).splitlines()[0]}") from None
    return runtime


def bootstrap(runtime: Runtime, say: Callable[[str], None]) -> None:
    """First run on an empty database: create the admin and tell the operator once."""
    with runtime.sessions() as session, session.begin():
        created = accounts.bootstrap_admin(session, now=runtime.clock.now())
    if created is not None:
        user, password, token = created
        say("First run: created the admin account (shown only now, store it safely):")
        say(f"  email:    {user.email}")
        say(f"  password: {password}")
        say(f"  API key:  {token}")
        say(f"  e.g.  export TOCSIN_URL={runtime.settings.public_url} TOCSIN_TOKEN={token}")


def select_jobs(only: list[str] | None = None, skip: list[str] | None = None) -> list[Job]:
    """The job list, narrowed by name (`tocsin worker --only/--skip`). Raises StartupError
    on an unknown name."""
    names = {job.name for job in JOBS}
    unknown = sorted({*(only or []), *(skip or [])} - names)
    if unknown:
        raise StartupError(f"unknown job {', '.join(unknown)}; the jobs are: "
                           + ", ".join(job.name for job in JOBS))
    return [job for job in JOBS
            if (not only or job.name in only) and job.name not in (skip or [])]


def make_worker(runtime: Runtime, jobs: list[Job] | None = None) -> Worker:
    jobs = JOBS if jobs is None else jobs
    # Timer handlers only where the timers job runs (a delivery-only worker fires none).
    handlers = TIMER_HANDLERS if any(job.name == "timers" for job in jobs) else {}
    return Worker(runtime=runtime, jobs=jobs, handlers=handlers)


# `serve_processes = "split"`: the worker processes `tocsin serve` starts, by the jobs each
# runs. Delivery has a process of its own: sending is steady work that would otherwise take
# turns on one interpreter lock with triage.
SPLIT_WORKERS: dict[str, dict[str, list[str]]] = {
    "engine": {"skip": [DELIVERY_JOB]},
    "delivery": {"only": [DELIVERY_JOB]},
}


def run_api(runtime: Runtime, *, with_worker: bool) -> None:
    """The HTTP API; with the worker too (`tocsin serve`): as threads of this process, or as
    child processes (`serve_processes = "split"`, see WorkerProcesses)."""
    from tocsin.api.app import create_app
    from tocsin.intake.fastlane import FastLane

    stop = threading.Event()
    thread: threading.Thread | None = None
    children: WorkerProcesses | None = None
    if with_worker and runtime.settings.serve_processes == "split":
        children = WorkerProcesses(runtime.settings, SPLIT_WORKERS)
        children.start()
        thread = threading.Thread(target=children.supervise, args=(stop,),
                                  name="tocsin-supervise", daemon=True)
        thread.start()
    elif with_worker:
        worker = make_worker(runtime)
        thread = threading.Thread(target=worker.run_forever, args=(stop,), name="tocsin-worker",
                                  daemon=True)
        thread.start()
    settings = runtime.settings
    config = uvicorn.Config(FastLane(create_app(runtime)), host=settings.host, port=settings.port,
                            log_level=settings.log_level.lower(), access_log=False,
                            **http_options(settings))
    # Heartbeat pings are answered ahead of everything else (heartbeats/fastlane.py).
    config.app = serve_pings_first(config.app, runtime)

    def stop_workers() -> None:
        stop.set()
        if thread is not None:
            thread.join(timeout=10)
        if children is not None:
            children.stop()

    try:
        _Server(config, stop_workers).run()
    finally:
        stop_workers()
        runtime.close()


class _Server(uvicorn.Server):
    """uvicorn's server, stopping the workers as part of its graceful shutdown: after a
    SIGTERM uvicorn re-raises the signal once it has shut down, which ends the process
    before any `finally` of ours runs."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets=sockets)
        await asyncio.to_thread(self._on_shutdown)


# How `tocsin api --workers N` tells its processes where their settings come from.
API_ARGS_ENV = "_TOCSIN_API_PROCESS_ARGS"


def run_api_processes(settings: Settings, *, config: Path | None,
                      overrides: dict[str, Any], workers: int) -> None:
    """`workers` API processes sharing one socket (uvicorn's supervisor); each builds its own
    runtime from the same configuration. On SQLite their inbox writers take turns on the
    database's write lock."""
    os.environ[API_ARGS_ENV] = json.dumps(
        {"config": str(config) if config else None,
         "overrides": {k: str(v) for k, v in overrides.items() if v is not None}})
    uvicorn.run("tocsin.server:api_process_app", factory=True, workers=workers,
                host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                access_log=False, **http_options(settings))


# Requests in flight get this long to finish when the server stops. Without a bound, an idle
# keep-alive TLS connection whose client never answers the close_notify holds the stop for
# asyncio's 30 s SSL shutdown timeout (measured: 33 s, against 0.2 s over plain HTTP).
GRACEFUL_SHUTDOWN_SECONDS = 5


def http_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS and proxy-header options from the settings."""
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips,
            "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
            "ssl_certfile": settings.tls_cert_file, "ssl_keyfile": settings.tls_key_file}


def api_process_app() -> Any:
    """The app of one `tocsin api --workers N` process (a uvicorn factory)."""
    from tocsin.api.app import create_app
    from tocsin.intake.fastlane import FastLane

    args = json.loads(os.environ[API_ARGS_ENV])
    settings = load_settings(Path(args["config"]) if args["config"] else None,
                             **args["overrides"])
    configure_logging(settings)
    runtime = open_runtime(settings, migrate_schema=False)
    return serve_pings_first(FastLane(create_app(runtime)), runtime)


def run_worker(runtime: Runtime, jobs: list[Job] | None = None,
               stop: threading.Event | None = None) -> None:
    """Run the worker until SIGTERM/SIGINT (or `stop`), woken by other processes' commits."""
    import signal

    stop = stop or threading.Event()

    def _stop(_sig: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runtime.wakeups.start_listener(runtime.settings.effective_database_url, stop)
    try:
        make_worker(runtime, jobs).run_forever(stop)
    finally:
        runtime.close()


def worker_process_main(settings: Settings, role: str, jobs: dict[str, list[str]],
                        parent: int) -> None:
    """A worker child of `tocsin serve` (spawned): runs `jobs`, and stops when its parent
    is gone — also after a kill -9 of the parent, which no signal announces."""
    configure_logging(settings)
    stop = threading.Event()

    def watch_parent() -> None:
        while not stop.wait(PARENT_CHECK_SECONDS):
            if os.getppid() != parent:
                log.warning("worker %s: the serve process %s is gone; stopping", role, parent)
                stop.set()

    threading.Thread(target=watch_parent, name="tocsin-parent", daemon=True).start()
    try:
        runtime = open_runtime(settings, migrate_schema=False)
    except StartupError as exc:
        log.error("worker %s cannot start: %s", role, exc)
        raise SystemExit(2) from None
    run_worker(runtime, select_jobs(jobs.get("only"), jobs.get("skip")), stop)


# How often a worker child checks that `tocsin serve` is still there (seconds).
PARENT_CHECK_SECONDS = 0.25
# Restarting a worker child that keeps dying waits this long first (seconds).
RESTART_DELAY_SECONDS = 1.0


class WorkerProcesses:
    """The worker children of `tocsin serve` (`serve_processes = "split"`), one per role:
    spawned (not forked: this process has threads and connections), restarted when one
    exits, stopped with the server."""

    def __init__(self, settings: Settings, roles: dict[str, dict[str, list[str]]]) -> None:
        import multiprocessing

        self.settings = settings
        self.roles = roles
        self.restarts = 0
        self._context = multiprocessing.get_context("spawn")
        self._children: dict[str, Any] = {}

    def start(self) -> None:
        for role in self.roles:
            self._start(role)

    def _start(self, role: str) -> None:
        process = self._context.Process(
            target=worker_process_main, name=f"tocsin-{role}",
            args=(self.settings, role, self.roles[role], os.getpid()))
        process.start()
        self._children[role] = process

    @property
    def pids(self) -> dict[str, int]:
        return {role: p.pid for role, p in self._children.items() if p.pid}

    def supervise(self, stop: threading.Event) -> None:
        """Restart children that exit, until `stop`."""
        while not stop.wait(RESTART_DELAY_SECONDS):
            for role, process in list(self._children.items()):
                if not process.is_alive():
                    log.warning("worker %s (process %s) exited with %s; restarting", role,
                                process.pid, process.exitcode)
                    self.restarts += 1
                    self._start(role)

    def stop(self, timeout: float = 15.0) -> None:
        for process in self._children.values():
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker finishes its cycle and exits
        deadline = time.monotonic() + timeout
        for role, process in self._children.items():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker %s did not stop; killing it", role)
                process.kill()
                process.join(5)
