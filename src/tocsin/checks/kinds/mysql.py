"""MySQL / MariaDB reachability: connect with PyMySQL and run `SELECT 1`.

PyMySQL is pure Python and blocking, so the exchange runs in a worker thread. Its own
connect/read/write timeouts equal the check's, so a thread left behind by the outer
deadline still ends soon after it.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

import pymysql

from tocsin.checks.kinds.base import CheckOutcome, describe, failure
from tocsin.checks.schemas import MysqlConfig

# PyMySQL's error numbers for "the server never answered the handshake".
_NO_SERVER = {2003, 2013}


def _select_one(cfg: MysqlConfig, timeout: float) -> Any:
    conn = pymysql.connect(
        host=cfg.host, port=cfg.port, user=cfg.user, password=cfg.password,
        database=cfg.database, connect_timeout=timeout, read_timeout=timeout,
        write_timeout=timeout, ssl=ssl.create_default_context() if cfg.tls else None,
        autocommit=True)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()
    finally:
        conn.close()


def explain(exc: pymysql.MySQLError) -> str:
    """`database error: <server or client error number> <message>`, one line, no password."""
    code, message = (*exc.args, None, None)[:2]
    if isinstance(code, int) and message is not None:
        text = " ".join(str(message).split())
        if code in _NO_SERVER:
            return f"database error: cannot reach the server ({code}: {text})"
        return f"database error: {code}: {text}"
    return f"database error: {describe(exc)}"


async def run(cfg: MysqlConfig, *, timeout: float) -> CheckOutcome:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            row = await asyncio.to_thread(_select_one, cfg, timeout)
    except TimeoutError:
        return failure(f"no answer from the database within {timeout:g}s")
    except pymysql.MySQLError as exc:
        return failure(explain(exc))
    except OSError as exc:  # TLS handshake failures surface as ssl.SSLError
        return failure(f"database error: {describe(exc)}")
    latency = int((time.perf_counter() - started) * 1000)
    if row != (1,):
        return failure(f"SELECT 1 returned {row!r}", latency)
    return CheckOutcome(ok=True, latency_ms=latency)
