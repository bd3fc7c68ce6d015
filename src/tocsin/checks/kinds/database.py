"""PostgreSQL reachability: connect with psycopg and run `SELECT 1` (MySQL: `mysql.py`)."""

from __future__ import annotations

import asyncio
import math
import time

import psycopg

from tocsin.checks.kinds.base import CheckOutcome, describe, failure
from tocsin.checks.schemas import PostgresConfig


async def run(cfg: PostgresConfig, *, timeout: float) -> CheckOutcome:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            conn = await psycopg.AsyncConnection.connect(
                cfg.dsn, connect_timeout=max(1, math.ceil(timeout)), autocommit=True)
            try:
                cursor = await conn.execute("SELECT 1")
                row = await cursor.fetchone()
            finally:
                await conn.close()
    except TimeoutError:
        return failure(f"no answer from the database within {timeout:g}s")
    except psycopg.Error as exc:
        # psycopg messages name host and user but never the password.
        return failure(f"database error: {describe(exc).splitlines()[0]}")
    latency = int((time.perf_counter() - started) * 1000)
    if row != (1,):
        return failure(f"SELECT 1 returned {row!r}", latency)
    return CheckOutcome(ok=True, latency_ms=latency)
