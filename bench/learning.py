"""Learning benchmark: one command, prints a table.

    .venv/bin/python bench/learning.py                       # SQLite in a temp dir
    .venv/bin/python bench/learning.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/learning.py --incidents 5000      # a quick, small run

With PostgreSQL a fresh database is made on that server for the run and dropped after.
Measures:
  1. similar-incident suggestions (knownerrors.service.suggest: index the new incident,
     full-text search over past incidents and known errors, rank, record the suggestions)
     with `--incidents` past incidents (default 100,000) and 200 known errors: p50/p99/max
     over `--queries` new incidents (target: p99 < 100 ms);
  2. building a post-mortem draft (postmortems.service.start: timeline and impact from the
     record) for an incident with `--events` events (default 5,000): median and max of 7
     (target: < 500 ms).
Each measured call runs in its own transaction, rolled back, so every run sees the same data.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import insert, select

from tocsin.catalog.models import Service
from tocsin.db import migrate
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService
from tocsin.knownerrors import search
from tocsin.knownerrors import service as knownerrors
from tocsin.knownerrors.models import Problem
from tocsin.postmortems import service as postmortems
from tocsin.postmortems.models import Postmortem
from tocsin.runtime import Runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

WORDS = (
    "payment", "gateway", "checkout", "login", "search", "api", "database", "replica",
    "primary", "disk", "memory", "cpu", "latency", "timeout", "504", "502", "500", "error",
    "rate", "queue", "kafka", "consumer", "lag", "certificate", "expired", "dns",
    "resolution", "cache", "redis", "eviction", "pool", "exhausted", "connection",
    "refused", "deploy", "rollback", "config", "flag", "region", "eu", "us", "cluster",
    "node", "pod", "crashloop", "oom", "throttled", "billing", "invoice", "email",
    "webhook", "delivery", "slow", "stale", "index", "ingest", "backlog",
)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _title(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, rng.randint(3, 7))).capitalize()


def _fresh_pg(server: str) -> tuple[str, str]:
    name = f"tocsin_bench_learning_{uuid.uuid4().hex[:8]}"
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}", name


def _drop_pg(server: str, name: str) -> None:
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _load(rt: Runtime, n: int, rng: random.Random) -> None:
    with rt.sessions() as s, s.begin():
        services = [s.execute(insert(Service).values(
            name=f"svc-{i}", description="", tier="medium", revenue=False,
            created_at=NOW).returning(Service.id)).scalar_one()
            for i in range(20)]
        for start in range(0, n, 5000):
            rows = []
            for i in range(start, min(n, start + 5000)):
                at = NOW - timedelta(minutes=n - i)
                rows.append({"title": _title(rng), "description": "", "status": "closed",
                             "severity": rng.choice(["SEV2", "SEV3", "SEV4"]),
                             "impact": "low", "urgency": "low", "detection_source": "monitor",
                             "restricted": False, "drill": False, "detected_at": at,
                             "last_update_at": at, "reopen_count": 0, "created_at": at,
                             "updated_at": at})
            ids = list(s.scalars(insert(Incident).returning(Incident.id), rows))
            s.execute(insert(IncidentService), [
                {"incident_id": iid, "service_id": rng.choice(services)} for iid in ids])
            search.put_many(s, "incidents", [(iid, r["title"]) for iid, r in
                                             zip(ids, rows, strict=True)])
        for _ in range(200):
            p = s.execute(insert(Problem).values(
                title=_title(rng), symptoms=_title(rng), workaround="restart it",
                fix_status="none", service_id=rng.choice(services), labels={},
                created_at=NOW, updated_at=NOW).returning(Problem.id)).scalar_one()
            search.put(s, "problems", p, _title(rng))


def bench_suggestions(rt: Runtime, queries: int, rng: random.Random) -> list[float]:
    with rt.sessions() as s:
        services = list(s.scalars(select(Service.id)))
    took = []
    for _ in range(queries):
        with rt.sessions() as s, s.begin():
            at = NOW + timedelta(hours=1)
            iid = s.execute(insert(Incident).values(
                title=_title(rng), description="", status="triggered", severity="SEV2",
                impact="high", urgency="high", detection_source="monitor", restricted=False,
                drill=False, detected_at=at, last_update_at=at, reopen_count=0, created_at=at,
                updated_at=at).returning(Incident.id)).scalar_one()
            s.execute(insert(IncidentService).values(incident_id=iid,
                                                     service_id=rng.choice(services)))
            t = time.perf_counter()
            knownerrors.suggest(s, incident_id=iid, now=at)
            s.flush()
            took.append(time.perf_counter() - t)
            s.rollback()
    return took


def bench_draft(rt: Runtime, events: int, rng: random.Random) -> list[float]:
    with rt.sessions() as s, s.begin():
        iid = s.execute(insert(Incident).values(
            title="Big incident", description="", status="resolved", severity="SEV1",
            impact="high", urgency="high", detection_source="monitor", restricted=False,
            drill=False, detected_at=NOW, last_update_at=NOW, reopen_count=0,
            resolved_at=NOW + timedelta(hours=5), created_at=NOW,
            updated_at=NOW).returning(Incident.id)).scalar_one()
        kinds = ["note", "action", "page_sent", "escalated", "hypothesis", "decision"]
        s.execute(insert(IncidentEvent), [
            {"incident_id": iid, "at": NOW + timedelta(seconds=i), "kind": rng.choice(kinds),
             "actor_id": None, "body": _title(rng), "data": {}} for i in range(events)])
    took = []
    for _ in range(7):
        with rt.sessions() as s, s.begin():
            t = time.perf_counter()
            postmortems.start(s, incident=s.get_one(Incident, iid), owner_id=None,
                              now=NOW + timedelta(hours=6), settings=rt.settings)
            s.flush()
            took.append(time.perf_counter() - t)
            assert s.scalars(select(Postmortem.id)).first() is not None
            s.rollback()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--events", type=int, default=5_000)
    args = parser.parse_args()
    rng = random.Random(17)
    pg_name = None
    url = args.database_url
    if url and url.startswith("postgresql"):
        url, pg_name = _fresh_pg(args.database_url)
    db = "PostgreSQL" if pg_name else "SQLite"
    print(f"cores: {os.cpu_count()}  database: {db}  load average: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(env="dev", data_dir=Path(tmp), database_url=url)
            rt = build_runtime(settings)
            migrate.upgrade(rt.engine)
            t = time.perf_counter()
            _load(rt, args.incidents, rng)
            loaded = time.perf_counter() - t
            sugg = sorted(bench_suggestions(rt, args.queries, rng))
            draft = sorted(bench_draft(rt, args.events, rng))
            rt.close()
    finally:
        if pg_name:
            _drop_pg(args.database_url, pg_name)
    p99 = sugg[min(len(sugg) - 1, int(len(sugg) * 0.99))]
    rows = [
        ("similar-incident suggestions", f"{args.incidents:,} past incidents, 200 known "
         f"errors ({loaded:.0f} s to load)", f"p50 {statistics.median(sugg) * 1000:.1f} ms",
         f"p99 {p99 * 1000:.1f} ms", f"max {sugg[-1] * 1000:.1f} ms", "p99 < 100 ms"),
        ("post-mortem draft", f"{args.events:,} events",
         f"median {statistics.median(draft) * 1000:.1f} ms", "-",
         f"max {draft[-1] * 1000:.1f} ms", "< 500 ms"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
