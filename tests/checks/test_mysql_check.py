"""MySQL/MariaDB reachability checks against the machine's MariaDB and broken loopback servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.checks import servers
from tests.checks.conftest import run_due_checks
from tests.checks.test_http_check_against_real_servers import run
from tests.conftest import Account
from tocsin.checks.models import Check
from tocsin.runtime import Runtime

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "database": "test"}


def mariadb_unavailable() -> str | None:
    try:
        pymysql.connect(**MARIADB, connect_timeout=3).close()  # type: ignore[arg-type]
        return None
    except Exception as exc:
        return f"no MariaDB/MySQL at 127.0.0.1:3306 (root, database test): {exc}"


@pytest.fixture(scope="module")
def mariadb() -> dict[str, Any]:
    reason = mariadb_unavailable()
    if reason:
        pytest.skip(reason)
    return dict(MARIADB)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word (a wedged database)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


@pytest.fixture
def garbage_server() -> Iterator[int]:
    """Greets every connection with bytes that are not the MySQL protocol."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"\xff\xff\xff\x00HELLO THIS IS NOT MYSQL\r\n" * 4)

    threading.Thread(target=serve, daemon=True).start()
    yield int(listener.getsockname()[1])
    listener.close()


def test_reachable_server_passes(mariadb: dict[str, Any]) -> None:
    out = run("mysql", mariadb)
    assert out.ok, out.reason
    assert out.latency_ms is not None
    assert run("mysql", {**mariadb, "database": None}).ok


def test_unknown_database_and_wrong_user_say_so(mariadb: dict[str, Any]) -> None:
    out = run("mysql", {**mariadb, "database": "no_such_db_here"})
    assert not out.ok and "Unknown database 'no_such_db_here'" in (out.reason or "")
    out = run("mysql", {**mariadb, "user": "nobody_here", "password": "s3cret-value"})
    assert not out.ok and "Access denied" in (out.reason or "")
    assert "s3cret-value" not in (out.reason or "")


def test_closed_port_is_unreachable() -> None:
    out = run("mysql", {"host": "127.0.0.1", "port": servers.closed_port(), "user": "root"})
    assert not out.ok and "cannot reach the server" in (out.reason or "")


def test_silent_server_times_out(silent_server: int) -> None:
    out = run("mysql", {"host": "127.0.0.1", "port": silent_server, "user": "root"},
              timeout=1.0)
    assert not out.ok
    assert "within 1s" in (out.reason or "") or "cannot reach" in (out.reason or "")


def test_garbage_instead_of_mysql_is_a_clean_failure(garbage_server: int) -> None:
    out = run("mysql", {"host": "127.0.0.1", "port": garbage_server, "user": "root"})
    assert not out.ok and out.reason


def test_bad_settings_are_refused_by_the_api(client: TestClient, admin: Account,
                                             service_id: int) -> None:
    body = {"name": "db", "kind": "mysql", "service_id": service_id, "interval_seconds": 30,
            "timeout_seconds": 2, "config": {"host": "db/x", "port": 70000}}
    r = client.post("/api/v1/checks", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    problem = r.text
    assert "config.host" in problem and "config.port" in problem and "config.user" in problem


def test_yaml_round_trip_and_a_runner_pass(client: TestClient, admin: Account, service_id: int,
                                           runtime: Runtime, mariadb: dict[str, Any]) -> None:
    document = {"checks": [{"name": "orders db", "service": "checkout", "kind": "mysql",
                            "interval_seconds": 30, "timeout_seconds": 3, "config": mariadb}]}
    r = client.post("/api/v1/checks/import", content=yaml.safe_dump(document),
                    headers=admin.headers)
    assert r.status_code == 200 and r.json()["created"] == ["orders db"], r.text
    exported = yaml.safe_load(client.get("/api/v1/checks/export", headers=admin.headers).text)
    entry = exported["checks"][0]
    assert entry["kind"] == "mysql" and entry["config"]["database"] == "test"
    assert entry["config"]["port"] == 3306 and entry["config"]["tls"] is False
    check_id = client.get("/api/v1/checks?limit=10", headers=admin.headers).json()["items"][0]["id"]
    with runtime.sessions() as s, s.begin():  # due now, not somewhere in its first interval
        s.execute(update(Check).where(Check.id == check_id).values(next_due_at=runtime.clock.now()))
    run_due_checks(runtime, expected=1)
    detail = client.get(f"/api/v1/checks/{check_id}", headers=admin.headers).json()
    assert detail["status"] == "up", detail
