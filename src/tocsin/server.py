"""Process entry points: the API server, the worker, or both together."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from tocsin.accounts import service as accounts
from tocsin.db import migrate
from tocsin.engine.worker import Worker
from tocsin.heartbeats.fastlane import serve_pings_first
from tocsin.jobs import JOBS, TIMER_HANDLERS
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


def make_worker(runtime: Runtime) -> Worker:
    return Worker(runtime=runtime, jobs=JOBS, handlers=TIMER_HANDLERS)


def run_api(runtime: Runtime, *, with_worker: bool) -> None:
    from tocsin.api.app import create_app
    from tocsin.intake.fastlane import FastLane

    stop = threading.Event()
    thread: threading.Thread | None = None
    if with_worker:
        worker = make_worker(runtime)
        thread = threading.Thread(target=worker.run_forever, args=(stop,), name="tocsin-worker",
                                  daemon=True)
        thread.start()
    settings = runtime.settings
    config = uvicorn.Config(FastLane(create_app(runtime)), host=settings.host, port=settings.port,
                            log_level=settings.log_level.lower(), access_log=False,
                            proxy_headers=True)
    # Heartbeat pings are answered ahead of everything else (heartbeats/fastlane.py).
    config.app = serve_pings_first(config.app, runtime)
    try:
        uvicorn.Server(config).run()
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=10)
        runtime.close()


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
                access_log=False, proxy_headers=True)


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


def run_worker(runtime: Runtime) -> None:
    import signal

    stop = threading.Event()

    def _stop(_sig: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    from tocsin.notify.wakeup import start_listener

    start_listener(runtime.settings.effective_database_url, runtime.wake, stop)
    try:
        make_worker(runtime).run_forever(stop)
    finally:
        runtime.close()
