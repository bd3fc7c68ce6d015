"""Shared fixtures.

Database: SQLite in a temp dir by default. Set TOCSIN_TEST_DATABASE_URL to a PostgreSQL
server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) to run the whole
suite on PostgreSQL: a fresh database is created for the session (for each pytest-xdist
worker) and emptied between tests.
Tests that need PostgreSQL whatever the suite's database use the `pg_url` fixture, which
skips with the reason when no server answers.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.notify.servers import Inbox, smtp_server
from tocsin.accounts import service as accounts
from tocsin.accounts.models import User
from tocsin.accounts.schemas import UserCreate
from tocsin.alerts.models import Alert
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.db import checks, migrate
from tocsin.db.config_cache import CONFIG_TABLES
from tocsin.db.session import make_engine
from tocsin.principal import Role
from tocsin.runtime import Runtime
from tocsin.settings import Settings, load_settings
from tocsin.tables import metadata
from tocsin.wiring import build_runtime

# Tests' receivers listen on loopback, where Tocsin sends nothing unless the admin allows it
# (outbound_allow): the shared settings allow it; tests of the refusal override it.
LOOPBACK_ALLOWED = ["127.0.0.0/8", "::1"]
# How long a started process (`tocsin serve`, `api`, `worker`, `probe`, Alertmanager) may
# take to answer: a deadline that only catches one that never does. Generous because the
# suite runs in parallel, on machines that may be busy with more than the suite.
STARTUP_SECONDS = 120.0
LOOPBACK_ALLOWED_ENV = {"TOCSIN_OUTBOUND_ALLOW": json.dumps(LOOPBACK_ALLOWED)}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery"  # every make_account user's password
# Their argon2 hashes use the cheapest parameters argon2 allows: verification reads the
# parameters from the hash, so signing in as them checks the password for real but costs
# microseconds instead of the production half-second of this (loaded, 2-core) machine, which
# ran once per account and per web sign-in, a good part of the suite's time. Accounts made
# through the API, the CLI and the web forms get production hashes.
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _server_url() -> str:
    return os.environ.get("TOCSIN_TEST_POSTGRES_URL", DEFAULT_PG)


def create_pg_database(server_url: str) -> str:
    """Create a uniquely named database on the server; returns its URL. Each pytest-xdist
    worker makes its own (the worker's name in it, e.g. tocsin_test_gw0_…)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"tocsin_test_{worker}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def pg_available(server_url: str) -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        engine = create_engine(server_url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"no PostgreSQL at {server_url}: {str(exc).splitlines()[0]}"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests share one xdist worker, so one Chromium runs (the `browser` fixture is
    per worker) rather than one per worker on a 2-core machine. They also run last (the
    group is the last work handed out): Playwright's sync API keeps an event loop running
    in the main thread once started, and a later test there calling `asyncio.run` would
    fail."""
    browser = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    for item in browser:
        item.add_marker(pytest.mark.xdist_group("browser"))
    chosen = set(browser)
    items[:] = [item for item in items if item not in chosen] + browser


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database for this test session (skips if none)."""
    server = os.environ.get("TOCSIN_TEST_DATABASE_URL") or _server_url()
    if not server.startswith("postgresql"):
        server = _server_url()
    reason = pg_available(server)
    if reason:
        pytest.skip(reason)
    url = create_pg_database(server)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    drop_pg_database(server, url)


@pytest.fixture(scope="session")
def suite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database kind the suite runs on: a migrated template (SQLite) or server (PG)."""
    server = os.environ.get("TOCSIN_TEST_DATABASE_URL")
    if server:
        reason = pg_available(server)
        if reason:
            pytest.exit(f"TOCSIN_TEST_DATABASE_URL is set but {reason}", returncode=3)
        url = create_pg_database(server)
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        if emptier := _EMPTIERS.pop(url, None):
            emptier.dispose()
        drop_pg_database(server, url)
        return
    template = tmp_path_factory.mktemp("template") / "tocsin.db"
    engine = make_engine(f"sqlite:///{template}")
    migrate.upgrade(engine)
    engine.dispose()
    yield f"sqlite:///{template}"


# One connection pool per PostgreSQL suite database, to empty it between tests.
_EMPTIERS: dict[str, Engine] = {}


def _fresh_url(suite_database: str, tmp_path: Path) -> str:
    if suite_database.startswith("sqlite"):
        target = tmp_path / "tocsin.db"
        shutil.copy(suite_database.split("///", 1)[1], target)
        return f"sqlite:///{target}"
    _empty_pg(suite_database)
    return suite_database


def _empty_pg(url: str) -> None:
    """Empty every table and restart every used sequence, as a fresh migrated database has
    them. Only the tables holding rows are emptied (found in one query), with DELETE,
    children first: a TRUNCATE of all 44 tables cost about half a second per test."""
    engine = _EMPTIERS.get(url)
    if engine is None:
        engine = _EMPTIERS[url] = make_engine(url)
    tables = metadata.sorted_tables
    probe = " UNION ALL ".join(
        f'SELECT {i} FROM (SELECT 1 FROM "{t.name}" LIMIT 1) AS t{i}'
        for i, t in enumerate(tables))
    with engine.begin() as conn:
        filled = {row[0] for row in conn.execute(text(probe))}
        for i in sorted(filled, reverse=True):
            conn.execute(text(f'DELETE FROM "{tables[i].name}"'))
        conn.execute(text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
            "FROM pg_sequences WHERE schemaname = current_schema() "
            "AND last_value IS NOT NULL"))
        conn.execute(text("INSERT INTO config_version (id, version) VALUES (1, 0)"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"env": "dev", "data_dir": tmp_path / "data",
                                  "outbound_allow": LOOPBACK_ALLOWED}
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def database_url(suite_database: str, tmp_path: Path) -> str:
    """An empty, migrated database for this test."""
    return _fresh_url(suite_database, tmp_path)


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def runtime(settings: Settings, clock: FrozenClock) -> Iterator[Runtime]:
    rt = build_runtime(settings, clock)
    yield rt
    rt.close()


@dataclass
class Account:
    user: User
    token: str

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_account(runtime: Runtime) -> Callable[..., Account]:
    counter = iter(range(1, 10_000))

    def make(role: Role | str = Role.RESPONDER, name: str | None = None,
             scope: Role | None = None, time_zone: str = "UTC") -> Account:
        n = next(counter)
        with runtime.sessions() as session, session.begin():
            user = accounts.create_user(session, data=UserCreate(
                name=name or f"User {n}", email=f"user{n}@example.com", role=Role(role),
                time_zone=time_zone), now=runtime.clock.now())
            user.password_hash = QUICK_HASHER.hash(PASSWORD)
            _key, token = accounts.create_api_key(session, owner=user, name="test", scope=scope,
                                                  now=runtime.clock.now())
        return Account(user=user, token=token)

    return make


@pytest.fixture
def admin(make_account: Callable[..., Account]) -> Account:
    return make_account(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def responder(make_account: Callable[..., Account]) -> Account:
    return make_account(Role.RESPONDER, name="Rui Responder")


@pytest.fixture
def viewer(make_account: Callable[..., Account]) -> Account:
    return make_account(Role.VIEWER, name="Vera Viewer")


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_incident(client: TestClient, responder: Account) -> Callable[..., dict[str, Any]]:
    """Declare an incident over the API; keyword overrides go into the request body."""

    def make(as_: Account | None = None, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"title": "Checkout failing", "severity": "SEV2"}
        body.update(overrides)
        r = client.post("/api/v1/incidents", json=body, headers=(as_ or responder).headers)
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    return make


def drain_intake(runtime: Runtime) -> int:
    """Triage every accepted intake event now (what the worker does in the background);
    returns how many inbox rows were handled. Tests that post an event and then look at
    alerts or incidents call this in between."""
    from tocsin.intake.processor import process_batch

    total = 0
    while handled := process_batch(runtime):
        total += handled
    return total


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback: (its inbox, its port)."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def smtp_settings(make_settings: Callable[..., Settings], database_url: str,
                  smtp: tuple[Inbox, int]) -> Settings:
    """Settings whose email goes to the `smtp` server (tests that page by email use these
    as their `settings`)."""
    return make_settings(database_url=database_url, smtp_port=smtp[1],
                         base_url="http://tocsin.test")


def pytest_configure(config: pytest.Config) -> None:
    """The rules of db/checks.py are checked in every test."""
    checks.install(owners={Alert: "tocsin.alerts.service"}, config_tables=CONFIG_TABLES)


@pytest.fixture(autouse=True)
def _rules_hold() -> Iterator[None]:
    """A rule broken where the code recovered from the error still fails the test."""
    checks.broken.clear()
    yield
    assert not checks.broken, "rules of db/checks.py broken: " + "; ".join(checks.broken)
