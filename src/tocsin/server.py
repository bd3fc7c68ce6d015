"""Process entry points: the API server, the worker, or both together."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from tocsin.accounts import service as accounts
from tocsin.db import migrate
from tocsin.engine.supervisor import Child, Supervisor, spawn
from tocsin.engine.worker import Job, Worker
from tocsin.jobs import DELIVERY_JOB, JOBS, TIMER_HANDLERS
from tocsin.logs import configure_logging
from tocsin.runtime import Runtime
from tocsin.settings import Settings, load_settings
from tocsin.wiring import build_runtime

log = logging.getLogger("tocsin")


class StartupError(Exception):
    """Startup cannot continue; the message is one line for the operator."""


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
    child processes (`serve_processes = "split"`, see worker_processes)."""
    from tocsin.app import create_served_app

    stop = threading.Event()
    thread: threading.Thread | None = None
    children: Supervisor[str, Child] | None = None
    if with_worker and runtime.settings.serve_processes == "split":
        children = worker_processes(runtime.settings, SPLIT_WORKERS)
        children.ensure()  # starts them all
        thread = threading.Thread(target=children.supervise, args=(stop, RESTART_DELAY_SECONDS),
                                  name="tocsin-supervise", daemon=True)
        thread.start()
    elif with_worker:
        worker = make_worker(runtime)
        thread = threading.Thread(target=worker.run_forever, args=(stop,), name="tocsin-worker",
                                  daemon=True)
        thread.start()
    settings = runtime.settings
    app = create_served_app(runtime)
    freeze_startup_objects()
    config = uvicorn.Config(app, host=settings.host, port=settings.port,
                            log_level=settings.log_level.lower(), access_log=False,
                            **http_options(settings))

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
# asyncio's 30 s SSL shutdown timeout.
GRACEFUL_SHUTDOWN_SECONDS = 5


def http_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS and proxy-header options from the settings."""
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips,
            "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
            "ssl_certfile": settings.tls_cert_file, "ssl_keyfile": settings.tls_key_file}


def api_process_app() -> Any:
    """The app of one `tocsin api --workers N` process (a uvicorn factory)."""
    from tocsin.app import create_served_app

    args = json.loads(os.environ[API_ARGS_ENV])
    settings = load_settings(Path(args["config"]) if args["config"] else None,
                             **args["overrides"])
    configure_logging(settings)
    runtime = open_runtime(settings, migrate_schema=False)
    return create_served_app(runtime, shared_port=True)


def freeze_startup_objects() -> None:
    """Move what start-up made (modules, models, the app, the runtime) out of the garbage
    collector's sight, once it is built and before work starts. Those objects live as long
    as the process; without this every full collection walks them all, a pause in the
    middle of a burst of pages (the paging benchmark's tail) that they never make garbage
    for."""
    gc.collect()
    gc.freeze()


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
    worker = make_worker(runtime, jobs)
    freeze_startup_objects()
    try:
        worker.run_forever(stop)
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


def worker_processes(settings: Settings, roles: dict[str, dict[str, list[str]]]
                     ) -> Supervisor[str, Child]:
    """The worker children of `tocsin serve` (`serve_processes = "split"`), one per role:
    restarted when one exits (`supervise`), stopped with the server (SIGTERM: each finishes
    its cycle and exits)."""

    def start(role: str) -> Child:
        return Child(spawn(worker_process_main, (settings, role, roles[role], os.getpid()),
                           name=f"tocsin-{role}"))

    return Supervisor(roles, start, log=log,
                      name=lambda role, child: f"worker {role} (process {child.process.pid})")
