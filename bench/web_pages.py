"""Server time of the web app's heaviest pages over a large, realistic data set.

    .venv/bin/python bench/web_pages.py                      # SQLite in a temp dir
    .venv/bin/python bench/web_pages.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Seeds 1,000 services and 10,000 incidents (500 of them open, each on one or two services),
signs in through the login form, then times, in process (no network, so this is the
server's own time plus a sub-millisecond test transport), the incident list (one page,
newest first) and the dashboard. Targets: list < 100 ms, dashboard < 300 ms (median).
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from tocsin.accounts import service as accounts
from tocsin.accounts.models import Role
from tocsin.accounts.schemas import UserCreate
from tocsin.api.app import create_app
from tocsin.catalog.models import Service
from tocsin.clock import FrozenClock
from tocsin.db import migrate
from tocsin.incidents.models import Incident, IncidentService
from tocsin.runtime import Runtime, build_runtime
from tocsin.settings import load_settings

SERVICES, INCIDENTS, OPEN = 1_000, 10_000, 500
PASSWORD = "benchmark password"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def seed(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        accounts.create_user(session, data=UserCreate(
            name="Bench Admin", email="bench@example.com", role=Role.ADMIN,
            password=PASSWORD), now=NOW)
        session.execute(insert(Service), [
            {"name": f"service-{i:04d}", "description": "", "tier": "medium" if i % 4 else
             "critical", "revenue": i % 10 == 0, "created_at": NOW} for i in range(SERVICES)])
        closed_statuses = ["closed", "resolved"]
        open_statuses = ["triggered", "acknowledged", "investigating", "identified"]
        rows = []
        for i in range(INCIDENTS):
            is_open = i >= INCIDENTS - OPEN
            at = NOW - timedelta(minutes=(INCIDENTS - i) * 7)
            rows.append({
                "title": f"Incident {i}: elevated errors", "description": "", "severity":
                f"SEV{1 + i % 4}", "status": open_statuses[i % 4] if is_open else
                closed_statuses[i % 2], "impact": "medium", "urgency": "medium",
                "detection_source": "monitor", "restricted": i % 50 == 0, "detected_at": at,
                "last_update_at": at, "reopen_count": 0, "created_at": at, "updated_at": at,
                "acknowledged_by_id": 1 if i % 3 == 0 else None, "commander_id": 1})
        session.execute(insert(Incident), rows)
        links = [{"incident_id": i + 1, "service_id": 1 + (i * 7) % SERVICES}
                 for i in range(INCIDENTS)]
        links += [{"incident_id": i + 1, "service_id": 1 + (i * 13 + 1) % SERVICES}
                  for i in range(0, INCIDENTS, 2) if (i * 13 + 1) % SERVICES != (i * 7) % SERVICES]
        session.execute(insert(IncidentService), links)
    with runtime.engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # planner statistics, as a live database would have


def timed(client: TestClient, path: str, runs: int) -> list[float]:
    client.get(path)  # warm: template compile, statement cache
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", metavar="SERVER_URL",
                        help="run on a fresh database created (and dropped) on this server")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
    database_url = None
    if args.postgres:
        database_url = make_url(args.postgres).set(
            database=f"tocsin_bench_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False)
        with create_engine(args.postgres, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{make_url(database_url).database}"'))
    try:
        return run(tmp, database_url, args.runs)
    finally:
        if database_url:
            with create_engine(args.postgres, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" '
                                  "WITH (FORCE)"))


def run(tmp: Path, database_url: str | None, runs: int) -> int:
    settings = load_settings(env="dev", data_dir=tmp, database_url=database_url)
    runtime = build_runtime(settings, FrozenClock(NOW))
    migrate.upgrade(runtime.engine)
    started = time.perf_counter()
    seed(runtime)
    print(f"seeded {SERVICES} services, {INCIDENTS} incidents ({OPEN} open) on "
          f"{settings.database_kind} in {time.perf_counter() - started:.1f}s")
    client = TestClient(create_app(runtime))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    r = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD,
                                    "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    failed = False
    for label, path, target in (("incident list, one page of 50 (all statuses)",
                                 "/incidents?status=all", 100.0),
                                ("incident list, open, filtered by severity",
                                 "/incidents?status=open&severity=SEV1", 100.0),
                                ("dashboard, 500 open incidents", "/", 300.0),
                                ("dashboard live fragment", "/live/dashboard", 300.0)):
        times = timed(client, path, runs)
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        ok = median < target
        failed |= not ok
        print(f"{label:48s} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
              f"target < {target:.0f} ms  {'OK' if ok else 'MISSED'}")
    runtime.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
