"""Learning benchmark: one command, both databases, one table.

    .venv/bin/python bench/learning.py                       # 100,000 past incidents, SQLite + PostgreSQL
    .venv/bin/python bench/learning.py --no-postgres         # SQLite only
    .venv/bin/python bench/learning.py --incidents 5000      # a quick, small run
    .venv/bin/python bench/learning.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Measures, on each database:
  1. similar-incident suggestions (knownerrors.service.suggest: index the new incident,
     full-text search over past incidents and known errors, rank, record the suggestions)
     with `--incidents` past incidents (default 100,000; realistic titles, services, alert
     labels and alert text) and 200 known errors: p50/p99/max over `--queries` new
     incidents, each with its alert (target: p99 < 100 ms);
  2. the same suggestions read-only, as the first page asks for them at send time before
     the suggest timer has run (knownerrors.service.page_suggestions: nothing recorded);
  3. building a post-mortem draft (postmortems.service.start: timeline and impact from the
     record) for an incident with `--events` events (default 5,000) by 8 people with role
     changes: median/p99/max of `--drafts` (target: < 500 ms).
Each measured call runs in its own transaction, rolled back, so every run sees the same data.

The past incidents are generated once per scale and schema (a hash of the migrations) and
cached: SQLite as a file under /tmp (copied for each run), PostgreSQL as a template database
on the server (`tocsin_bench_learning_tpl_<scale>_<key>`; each run's database is created
from it and dropped after). `--rebuild` makes them again.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from tocsin.accounts.models import User
from tocsin.alerts.models import Alert
from tocsin.catalog.models import Service
from tocsin.db import migrate
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService
from tocsin.knownerrors import search
from tocsin.knownerrors import service as knownerrors
from tocsin.knownerrors.models import Problem
from tocsin.postmortems import service as postmortems
from tocsin.postmortems.models import Postmortem
from tocsin.runtime import Runtime
from tocsin.server import freeze_startup_objects
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

NOW = datetime(2026, 12, 1, tzinfo=UTC)
GENERATOR_VERSION = "2"  # bump when the generated data changes (part of the cache key)
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

SERVICES = (
    "payments", "checkout", "cart", "search", "auth", "login", "accounts", "billing",
    "invoicing", "email", "notifications", "webhooks", "ingest", "api-gateway", "cdn", "dns",
    "postgres-primary", "redis-cache", "kafka", "orders", "inventory", "shipping",
    "recommendations", "images", "uploads", "reporting", "analytics", "scheduler",
    "mobile-api", "admin",
)
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2")
# alertname: (title templates, alert summary template)
ALERTS: dict[str, tuple[tuple[str, ...], str]] = {
    "HighErrorRate": (("{svc} returning 5xx errors", "Elevated 502s on {svc}",
                       "{svc} error rate above threshold", "{svc} 500 errors after deploy"),
                      "{svc} 5xx error rate {n}% above 5% for 10m in {region}"),
    "HighLatency": (("{svc} slow responses", "p99 latency high on {svc}",
                     "{svc} requests timing out", "Slow {svc} page loads"),
                    "p99 latency {n}00ms above 800ms on {svc} in {region}"),
    "PodCrashLooping": (("{svc} pods crashlooping", "{svc} OOMKilled restarts",
                         "{svc} containers restarting"),
                        "pod {svc}-{h} restarting {n} times in 15m, last reason OOMKilled"),
    "DiskSpaceLow": (("Disk almost full on {svc} nodes", "{svc} volume out of space"),
                     "filesystem /var/lib/{svc} {n}% used on node {h}"),
    "CertificateExpiring": (("TLS certificate for {svc} expiring", "{svc} certificate expired"),
                            "certificate for {svc}.example.com expires in {n} days"),
    "ReplicationLag": (("{svc} replica lagging", "Replication lag on {svc} database"),
                       "replica {h} of {svc} {n}s behind primary"),
    "QueueBacklog": (("{svc} queue backlog growing", "{svc} consumers lagging behind"),
                     "kafka consumer group {svc}-workers lag {n}000 messages"),
    "ConnectionPoolExhausted": (("{svc} connection pool exhausted",
                                 "{svc} cannot get database connections"),
                                "{svc} pool waiters {n}, pool size 50, timeouts acquiring"),
    "DNSResolutionFailure": (("DNS resolution failing for {svc}", "{svc} cannot resolve hosts"),
                             "SERVFAIL for {svc}.internal from resolver {h}"),
    "CacheEvictionStorm": (("{svc} cache evictions spiking", "Redis evictions on {svc}"),
                           "evicted keys {n}000/s on redis {h} used by {svc}"),
    "DeployFailed": (("{svc} deploy failed", "{svc} rollout stuck", "Rollback of {svc}"),
                     "deployment {svc} revision {n} failed readiness checks"),
    "HeartbeatMissed": (("{svc} cron job heartbeat missed", "{svc} nightly job did not run"),
                        "no heartbeat from {svc}-nightly for {n} hours"),
    "MemoryPressure": (("{svc} memory pressure", "{svc} nodes swapping"),
                       "memory usage {n}% on {svc} node {h}"),
    "CPUThrottling": (("{svc} CPU throttled", "{svc} hitting CPU limits"),
                      "container {svc} throttled {n}% of periods"),
    "RateLimited": (("{svc} rate limited by provider", "Third-party API throttling {svc}"),
                    "upstream returned 429 to {svc} {n} times per minute"),
    "NodeNotReady": (("Kubernetes node NotReady in {svc} pool", "{svc} node pool degraded"),
                     "node {h} NotReady for {n}m, kubelet stopped posting status"),
    "BackupFailed": (("{svc} backup failed", "Nightly {svc} snapshot missing"),
                     "backup job for {svc} exited with code {n}"),
    "WebhookDeliveryFailing": (("{svc} webhook deliveries failing",
                                "Customers not receiving {svc} webhooks"),
                               "{n}% of webhook deliveries from {svc} failing with timeouts"),
}
FIXES = ("Rolled back the deploy", "Restarted the pods", "Raised the pool size",
         "Failed over to the replica", "Renewed the certificate", "Scaled out the consumers",
         "Cleared the cache and warmed it", "Provider fixed it on their side",
         "Freed disk space and added an alert at 80%", "Reverted the feature flag")


def _skewed(rng: random.Random, items: tuple[str, ...]) -> str:
    """A few items are much more common than the rest, as in real alert histories."""
    return items[min(len(items) - 1, int(rng.paretovariate(1.2)) - 1)]


def _case(rng: random.Random) -> dict[str, Any]:
    """One incident's title, service, alert labels and alert text."""
    name = _skewed(rng, tuple(ALERTS))
    titles, summary = ALERTS[name]
    svc = rng.choice(SERVICES) if rng.random() < 0.5 else _skewed(rng, SERVICES)
    region = rng.choice(REGIONS)
    fill = {"svc": svc, "region": region, "n": rng.randint(2, 99),
            "h": f"{rng.getrandbits(24):06x}"}
    title = rng.choice(titles).format(**fill)
    title = title[0].upper() + title[1:]
    if rng.random() < 0.3:
        title += rng.choice((f" in {region}", " (intermittent)", " after deploy",
                             " for some customers", " during peak"))
    labels = {"alertname": name, "service": svc, "env": "prod" if rng.random() < 0.9
              else "staging", "region": region, "severity": rng.choice(("critical", "warning"))}
    return {"title": title, "service": svc, "labels": labels, "summary": summary.format(**fill)}


def _document(case: dict[str, Any], resolution: str = "") -> str:
    """What knownerrors indexes for an incident (service._context): title, description,
    resolution summary, alert summaries, label values."""
    return "\n".join([case["title"], "", resolution, case["summary"],
                      *case["labels"].values()])


# ---- data -----------------------------------------------------------------------------------

def _schema_key(n: int) -> str:
    h = hashlib.sha256(GENERATOR_VERSION.encode())
    for path in sorted((migrate.MIGRATIONS / "versions").glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return f"{n}_{h.hexdigest()[:10]}"


def _insert(rt: Runtime, table: Any, rows: list[dict[str, Any]]) -> None:
    with rt.sessions() as s, s.begin():
        for start in range(0, len(rows), 5000):
            s.execute(insert(table.__table__), rows[start:start + 5000])


def _load(rt: Runtime, n: int) -> None:
    """n past incidents (closed, each with its alert, service and index row), 200 known
    errors; ids given here, so no RETURNING round trips."""
    rng = random.Random(17)
    service_ids = {name: i for i, name in enumerate(SERVICES, start=1)}
    _insert(rt, Service, [{"id": i, "name": name, "description": "", "tier": "medium",
                           "revenue": False, "created_at": NOW}
                          for name, i in service_ids.items()])
    incidents, links, alerts, docs = [], [], [], []
    for iid in range(1, n + 1):
        case = _case(rng)
        at = NOW - timedelta(minutes=5 * (n - iid))
        fixed = rng.choice(FIXES) if rng.random() < 0.6 else ""
        incidents.append({
            "id": iid, "title": case["title"], "description": "", "status": "closed",
            "severity": rng.choice(["SEV1", "SEV2", "SEV2", "SEV3", "SEV3", "SEV4"]),
            "impact": "low", "urgency": "low", "detection_source": "monitor",
            "restricted": rng.random() < 0.01, "drill": False, "detected_at": at,
            "resolved_at": at + timedelta(minutes=40), "closed_at": at + timedelta(hours=1),
            "resolution_summary": fixed or None, "last_update_at": at, "reopen_count": 0,
            "created_at": at, "updated_at": at})
        links.append({"incident_id": iid, "service_id": service_ids[case["service"]]})
        alerts.append({
            "id": iid, "scope": f"s:{service_ids[case['service']]}",
            "dedup_key": f"past-{iid}", "service_id": service_ids[case["service"]],
            "incident_id": iid, "status": "resolved", "summary": case["summary"],
            "source": "alertmanager", "severity": "SEV2", "labels": case["labels"],
            "first_seen_at": at, "last_seen_at": at, "resolved_at": at + timedelta(minutes=40)})
        docs.append((iid, _document(case, fixed)))
    _insert(rt, Incident, incidents)
    _insert(rt, IncidentService, links)
    _insert(rt, Alert, alerts)
    with rt.sessions() as s, s.begin():
        for start in range(0, n, 5000):
            search.put_many(s, "incidents", docs[start:start + 5000])
    problems = []
    for pid in range(1, 201):
        case = _case(rng)
        labels = {"alertname": case["labels"]["alertname"]} if rng.random() < 0.5 else {}
        problems.append({
            "id": pid, "title": f"Known: {case['title'].lower()}",
            "symptoms": f"{case['summary']}; {case['title'].lower()}",
            "workaround": f"{rng.choice(FIXES)}.\nThen watch the dashboard for 15 minutes.",
            "fix_status": rng.choice(["none", "planned", "in_progress", "fixed"]),
            "service_id": service_ids[case["service"]] if rng.random() < 0.8 else None,
            "labels": labels, "created_at": NOW, "updated_at": NOW})
    _insert(rt, Problem, problems)
    with rt.sessions() as s, s.begin():
        search.put_many(s, "problems", [
            (p["id"], f"{p['title']}\n{p['symptoms']}\n{' '.join(p['labels'].values())}")
            for p in problems])
        if s.get_bind().dialect.name == "postgresql":
            for table in ("services", "incidents", "alerts", "problems"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
            s.execute(text("ANALYZE"))
        else:
            s.execute(text("ANALYZE"))


def _runtime(url: str | None, data_dir: Path) -> Runtime:
    settings = load_settings(env="dev", data_dir=data_dir, database_url=url)
    return build_runtime(settings)


@contextmanager
def sqlite_database(n: int, rebuild: bool) -> Iterator[Runtime]:
    cached = Path(f"/tmp/tocsin-bench-learning-{_schema_key(n)}.sqlite")
    with tempfile.TemporaryDirectory() as tmp:
        if rebuild or not cached.exists():
            t = time.perf_counter()
            rt = _runtime(None, Path(tmp))
            migrate.upgrade(rt.engine)
            _load(rt, n)
            path = make_url(str(rt.engine.url)).database
            rt.close()
            assert path
            Path(f"{cached}.part").unlink(missing_ok=True)
            with sqlite3.connect(path) as source, sqlite3.connect(f"{cached}.part") as copy:
                source.backup(copy)  # one file, whatever the WAL still held
            os.replace(f"{cached}.part", cached)
            print(f"  SQLite: generated {n:,} incidents in {time.perf_counter() - t:.0f} s "
                  f"-> {cached}")
            shutil.rmtree(tmp)
            os.makedirs(tmp)
        probe = _runtime(None, Path(tmp))
        path = make_url(str(probe.engine.url)).database
        probe.close()
        assert path
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(cached, path)
        rt = _runtime(None, Path(tmp))
        try:
            yield rt
        finally:
            rt.close()


@contextmanager
def postgres_database(server: str, n: int, rebuild: bool) -> Iterator[Runtime]:
    template = f"tocsin_bench_learning_tpl_{_schema_key(n)}"
    name = f"tocsin_bench_learning_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    url = make_url(server)
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": template}).first() is not None
            if exists and rebuild:
                conn.execute(text(f'DROP DATABASE "{template}" WITH (FORCE)'))
                exists = False
            if not exists:
                t = time.perf_counter()
                building = f"{template}_part"
                conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{building}"'))
                with tempfile.TemporaryDirectory() as tmp:
                    rt = _runtime(url.set(database=building).render_as_string(
                        hide_password=False), Path(tmp))
                    migrate.upgrade(rt.engine)
                    _load(rt, n)
                    rt.close()
                conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{template}"'))
                print(f"  PostgreSQL: generated {n:,} incidents in "
                      f"{time.perf_counter() - t:.0f} s -> database {template}")
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        with tempfile.TemporaryDirectory() as tmp:
            rt = _runtime(url.set(database=name).render_as_string(hide_password=False),
                          Path(tmp))
            with rt.engine.connect() as c:  # a template copy keeps no statistics
                c.execute(text("ANALYZE"))
                c.commit()
            try:
                yield rt
            finally:
                rt.close()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---- measurements ---------------------------------------------------------------------------

def _new_incident(s: Any, rng: random.Random, services: dict[str, int]) -> int:
    case = _case(rng)
    at = NOW + timedelta(hours=1)
    iid: int = s.execute(insert(Incident).values(
        title=case["title"], description="", status="triggered", severity="SEV2",
        impact="high", urgency="high", detection_source="monitor", restricted=False,
        drill=False, detected_at=at, last_update_at=at, reopen_count=0, created_at=at,
        updated_at=at).returning(Incident.id)).scalar_one()
    sid = services[case["service"]]
    s.execute(insert(IncidentService).values(incident_id=iid, service_id=sid))
    s.execute(insert(Alert).values(
        scope=f"s:{sid}", dedup_key=f"new-{uuid.uuid4().hex}", service_id=sid,
        incident_id=iid, status="firing", summary=case["summary"], source="alertmanager",
        severity="SEV2", labels=case["labels"], first_seen_at=at, last_seen_at=at))
    return iid


def bench_suggestions(rt: Runtime, queries: int, call: Callable[[Any, int], object]
                      ) -> list[float]:
    rng = random.Random(99)  # the same new incidents on every database and run
    with rt.sessions() as s:
        services = {name: sid for sid, name in s.execute(select(Service.id, Service.name))}
    took = []
    for _ in range(queries):
        with rt.sessions() as s, s.begin():
            iid = _new_incident(s, rng, services)
            s.flush()
            t = time.perf_counter()
            call(s, iid)
            s.flush()
            took.append(time.perf_counter() - t)
            s.rollback()
    return took


def _events(iid: int, n: int, users: list[int], rng: random.Random) -> list[dict[str, Any]]:
    """A long incident's record: paging, an IC and leads named, notes, hypotheses,
    decisions, status moves, as a real major incident writes them."""
    out: list[dict[str, Any]] = []

    def add(kind: str, actor: int | None, body: str, **data: Any) -> None:
        out.append({"incident_id": iid, "at": NOW + timedelta(seconds=3 * len(out)),
                    "kind": kind, "actor_id": actor, "body": body, "data": data})

    add("created", None, "Declared from alert HighErrorRate")
    for u in users[:3]:
        add("page_sent", None, f"Paged user {u} by email", user_id=u)
    add("status_changed", users[0], "Acknowledged", to="acknowledged")
    add("role_changed", users[0], "Commander", role="commander", to=users[0])
    add("role_changed", users[0], "Tech lead", role="tech_lead", to=users[1])
    add("role_changed", users[0], "Comms lead", role="comms_lead", to=users[2])
    kinds = ["note"] * 6 + ["action"] * 2 + ["hypothesis", "page_sent", "escalated",
                                              "decision"]
    while len(out) < n - 3:
        kind = rng.choice(kinds)
        if kind in ("page_sent", "escalated"):
            add(kind, None, f"{kind} to level {rng.randint(1, 3)}")
        elif rng.random() < 0.01:
            add("role_changed", users[0], "Commander handed over", role="commander",
                to=rng.choice(users))
        else:
            add(kind, rng.choice(users), " ".join(rng.choice(_case(rng)["summary"].split())
                                                  for _ in range(12)))
    add("status_changed", users[0], "Mitigated", to="monitoring")
    add("resolved", users[0], "Resolved: rolled back the deploy")
    add("note", users[2], "Status page updated")
    return out


def bench_draft(rt: Runtime, events: int, drafts: int) -> list[float]:
    rng = random.Random(5)
    with rt.sessions() as s, s.begin():
        users = [s.execute(insert(User).values(
            name=f"Responder {i}", email=f"r{i}-{uuid.uuid4().hex[:6]}@example.com",
            created_at=NOW).returning(User.id)).scalar_one() for i in range(8)]
        iid = s.execute(insert(Incident).values(
            title="Big incident", description="", status="resolved", severity="SEV1",
            impact="high", urgency="high", detection_source="monitor", restricted=False,
            drill=False, detected_at=NOW, last_update_at=NOW, reopen_count=0,
            acknowledged_at=NOW + timedelta(minutes=2), commander_id=users[0],
            resolved_at=NOW + timedelta(hours=5), created_at=NOW,
            updated_at=NOW).returning(Incident.id)).scalar_one()
        s.execute(insert(IncidentService).values(incident_id=iid, service_id=1))
        s.execute(insert(IncidentEvent), _events(iid, events, users, rng))
    took = []
    for _ in range(drafts):
        with rt.sessions() as s, s.begin():
            t = time.perf_counter()
            postmortems.start(s, incident=s.get_one(Incident, iid), owner_id=None,
                              now=NOW + timedelta(hours=6), settings=rt.settings)
            s.flush()
            took.append(time.perf_counter() - t)
            assert s.scalars(select(Postmortem.id)).first() is not None
            s.rollback()
    return took


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def measure(rt: Runtime, db: str, args: argparse.Namespace) -> list[tuple[str, ...]]:
    freeze_startup_objects()  # as every worker process does before work starts
    at = NOW + timedelta(hours=1)
    bench_suggestions(rt, 5, lambda s, i: knownerrors.suggest(s, incident_id=i, now=at))
    sugg = bench_suggestions(rt, args.queries,
                             lambda s, i: knownerrors.suggest(s, incident_id=i, now=at))
    peek = bench_suggestions(rt, args.queries,
                             lambda s, i: knownerrors.page_suggestions(s, [i], budget=10.0))
    draft = bench_draft(rt, args.events, args.drafts)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        (db, f"suggestions ({args.incidents:,} past, 200 known errors)",
         f"{_pct(sugg, 0.5):.1f}", f"{_pct(sugg, 0.99):.1f}", f"{max(sugg) * 1000:.1f}",
         "p99 < 100", load),
        (db, "  first page's suggestions (read-only)", f"{_pct(peek, 0.5):.1f}",
         f"{_pct(peek, 0.99):.1f}", f"{max(peek) * 1000:.1f}", "", load),
        (db, f"post-mortem draft ({args.events:,} events)", f"{_pct(draft, 0.5):.1f}",
         f"{_pct(draft, 0.99):.1f}", f"{max(draft) * 1000:.1f}", "< 500", load),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=PG_DEFAULT,
                        help="PostgreSQL server (a database is created on it)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--drafts", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached data")
    args = parser.parse_args()
    print(f"bench/learning.py on {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at start")
    rows: list[tuple[str, ...]] = [("database", "what", "p50/median ms", "p99 ms", "max ms",
                                    "target ms", "load avg (1/5/15 min)")]
    if not args.no_sqlite:
        with sqlite_database(args.incidents, args.rebuild) as rt:
            rows += measure(rt, "SQLite", args)
    if not args.no_postgres:
        with postgres_database(args.database_url, args.incidents, args.rebuild) as rt:
            rows += measure(rt, "PostgreSQL", args)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
