"""Server time of the web app's heaviest pages over a large, realistic data set.

    .venv/bin/python bench/web_pages.py                      # SQLite in a temp dir
    .venv/bin/python bench/web_pages.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Seeds 1,000 services and 10,000 incidents (500 of them open, each on one or two services),
and 10,000 checks (three locations each, one probe offline, 24 hourly rollups each),
signs in through the login form, then times, in process (no network, so this is the
server's own time plus a sub-millisecond test transport), the incident list (one page,
newest first), the dashboard, the check list page (filters, search) and the check list API.
Targets: incident list < 100 ms, dashboard < 300 ms, check list page and API < 300 ms
(median). Besides wall time it prints the CPU time the process used per request (median),
which a busy machine disturbs less. Exit status 1 when a target is missed.
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
from pgtemp import temporary_database
from sqlalchemy import insert, text

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import UserCreate
from tocsin.api import pagination
from tocsin.app import create_app
from tocsin.catalog.models import Service
from tocsin.checks.models import Check, CheckLocationState, CheckResult, CheckRollup, Probe
from tocsin.clock import FrozenClock
from tocsin.db import migrate
from tocsin.incidents.models import Incident, IncidentService
from tocsin.principal import Role
from tocsin.runtime import Runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

SERVICES, INCIDENTS, OPEN = 1_000, 10_000, 500
CHECKS = 10_000
LOCATIONS = ["server", "eu-west", "us-east"]
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
    seed_checks(runtime)
    with runtime.engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # planner statistics, as a live database would have


def seed_checks(runtime: Runtime) -> None:
    """10,000 checks: 2% down, 1% paused; per-location state; a day of hourly rollups."""
    statuses = ["down" if i % 50 == 0 else "paused" if i % 100 == 1 else "up"
                for i in range(CHECKS)]
    with runtime.sessions() as session, session.begin():
        session.execute(insert(Probe), [
            {"name": name, "token_hash": uuid.uuid4().hex, "created_at": NOW,
             "status": "offline" if name == "us-east" else "online", "last_seen_at": NOW}
            for name in LOCATIONS[1:]])
        session.execute(insert(Check), [
            {"name": f"check-{i:05d}", "kind": "http", "service_id": 1 + i % SERVICES,
             "interval_seconds": 60, "timeout_seconds": 10.0,
             "config": {"url": f"https://svc-{i % SERVICES}.example.com/health/{i}",
                        "method": "GET"}, "locations": LOCATIONS, "confirm_failures": 2,
             "enabled": statuses[i] != "paused", "on_server": True, "status": statuses[i],
             "next_due_at": NOW, "last_checked_at": NOW - timedelta(seconds=i % 60),
             "last_latency_ms": 40 + i % 200, "created_at": NOW} for i in range(CHECKS)])
        session.execute(insert(CheckLocationState), [
            {"check_id": i + 1, "location": loc, "ok": statuses[i] != "down",
             "consecutive": 3, "last_at": NOW, "latency_ms": 50}
            for i in range(CHECKS) for loc in LOCATIONS[:2]])
        # One check with a week of raw results (every minute from three locations): the
        # detail page's 7-day chart reads them for hourly medians.
        session.execute(insert(CheckResult), [
            {"check_id": 1, "location": loc, "at": NOW - timedelta(minutes=m), "ok": True,
             "latency_ms": 40 + (m * 7) % 300} for m in range(7 * 24 * 60) for loc in LOCATIONS])
        for hour in range(24):
            session.execute(insert(CheckRollup), [
                {"check_id": i + 1, "period": "hour", "start": NOW - timedelta(hours=hour),
                 "total": 180, "ok_count": 180 - (i + hour) % 3, "latency_sum_ms": 9000,
                 "latency_max_ms": 300} for i in range(CHECKS)])


def timed(client: TestClient, path: str, runs: int) -> tuple[list[float], list[float]]:
    """Wall and process CPU milliseconds per request."""
    client.get(path)  # warm: template compile, statement cache
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        r = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", metavar="SERVER_URL",
                        help="run on a fresh database created (and dropped) on this server")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
    with temporary_database(args.postgres) as database_url:
        return run(tmp, database_url, args.runs)


def run(tmp: Path, database_url: str | None, runs: int) -> int:
    settings = load_settings(env="dev", data_dir=tmp, database_url=database_url)
    runtime = build_runtime(settings, FrozenClock(NOW))
    migrate.upgrade(runtime.engine)
    started = time.perf_counter()
    seed(runtime)
    print(f"seeded {SERVICES} services, {INCIDENTS} incidents ({OPEN} open), {CHECKS} checks on "
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
                                ("dashboard live fragment", "/live/dashboard", 300.0),
                                ("check list page, 50 of 10,000", "/checks", 300.0),
                                ("check list page, status down", "/checks?status=down", 300.0),
                                ("check list page, search 'svc-42.'", "/checks?q=svc-42.", 300.0),
                                ("check list page, 100th page",
                                 f"/checks?cursor={pagination.encode(5_000)}", 300.0),
                                ("check detail, 7-day chart (30,240 results)",
                                 "/checks/1?range=7d", 300.0),
                                ("check list API, 100 of 10,000", "/api/v1/checks?limit=100",
                                 300.0)):
        times, cpu = timed(client, path, runs)
        median = statistics.median(times)
        p95 = sorted(times)[int(len(times) * 0.95) - 1]
        ok = median < target
        failed |= not ok
        print(f"{label:44s} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
              f"cpu {statistics.median(cpu):6.1f} ms  target < {target:.0f} ms  "
              f"{'OK' if ok else 'MISSED'}")
    runtime.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
