"""Metrics over a large history: the /analytics page and each /api/v1/metrics answer, and
whether their figures agree with a slow full computation.

    .venv/bin/python bench/analytics.py --scale 0.02                 # SQLite in a temp dir
    .venv/bin/python bench/analytics.py --scale 0.02 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

At --scale 1: 100,000 incidents over two years (each with its log: created, acknowledged,
notes, resolved, some reopened or escalated; about 5 entries each), 150,000 pages sent to
50 people in 8 time zones, 200,000 alerts with 2,000,000 alert events (10 per alert) on
20 integrations (PostgreSQL's then vacuumed and analysed, as autovacuum would). Every
figure shrinks with --scale. Times, in process (the app served as `tocsin serve` serves
it, its lifespan run; the server's own time plus a sub-millisecond test transport), the
metrics page and each API answer for the default window (the last 90 days), and the
incident API for a whole year per month; target p99 < 300 ms. Then recomputes the
per-severity figures and every person's page counts the slow way (each incident and its
log loaded one by one through the ORM; pages per person) and checks they equal the API's.
Exit status 1 when a target is missed or a figure differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.models import Team, TeamMember, User
from tocsin.accounts.schemas import UserCreate
from tocsin.alerts.models import Alert, AlertEvent, Integration
from tocsin.analytics import measures, oncall_health, summary, targets
from tocsin.app import create_app
from tocsin.catalog.models import Service
from tocsin.clock import FrozenClock
from tocsin.db import migrate
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService
from tocsin.notify.models import ContactMethod, Message
from tocsin.principal import Role
from tocsin.runtime import Runtime
from tocsin.settings import Settings, load_settings
from tocsin.tables import metadata
from tocsin.wiring import build_runtime

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
PASSWORD = "benchmark password"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
         "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo"]
TARGET_MS = 300.0
BATCH = 20_000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i:i + BATCH] for i in range(0, len(rows), BATCH)]


def _copy_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # the columns hold naive UTC
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def bulk_insert(runtime: Runtime, model: Any, rows: list[dict[str, Any]]) -> None:
    """COPY on PostgreSQL; executemany in batches of BATCH on SQLite."""
    if not rows:
        return
    if runtime.settings.database_kind != "postgresql":
        with runtime.sessions() as s, s.begin():
            for part in _chunks(rows):
                s.execute(insert(model.__table__), part)
        return
    # COPY skips the models' Python-side defaults (labels={}, ...): fill them in.
    fixed = {}
    for c in model.__table__.columns:
        if c.name in rows[0] or c.default is None:
            continue
        if getattr(c.default, "is_scalar", False):
            fixed[c.name] = c.default.arg
        elif getattr(c.default, "is_callable", False):
            fixed[c.name] = c.default.arg(None)
    if fixed:
        rows = [{**fixed, **r} for r in rows]
    columns = list(rows[0])
    table = model.__tablename__
    raw = runtime.engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(row[c]) for c in columns])
        raw.commit()
    finally:
        raw.close()


def seed(runtime: Runtime, scale: float, rnd: random.Random) -> dict[str, int]:
    n_incidents = max(200, int(100_000 * scale))
    n_alerts = max(100, int(200_000 * scale))
    with runtime.sessions() as s, s.begin():
        accounts.create_user(s, data=UserCreate(
            name="Bench Admin", email="bench@example.com", role=Role.ADMIN,
            password=PASSWORD), now=NOW - SPAN)
        s.execute(insert(User.__table__), [
            {"name": f"Person {i:02d}", "email": f"p{i}@example.com", "role": "responder",
             "time_zone": ZONES[i % len(ZONES)], "active": True, "created_at": NOW - SPAN}
            for i in range(50)])
        s.execute(insert(Team.__table__), [{"name": f"Team {t}", "description": "",
                                  "created_at": NOW - SPAN} for t in range(5)])
        s.execute(insert(TeamMember.__table__), [{"team_id": 1 + i % 5, "user_id": 2 + i}
                                       for i in range(50)])
        s.execute(insert(Service.__table__), [
            {"name": f"service-{i:03d}", "description": "", "owner_team_id": 1 + i % 5,
             "tier": "medium", "revenue": False, "created_at": NOW - SPAN} for i in range(100)])
        s.execute(insert(ContactMethod.__table__), [
            {"user_id": 2 + i, "kind": ["email", "webhook", "apprise"][i % 3],
             "address": f"p{i}@example.com", "label": "", "verified_at": NOW - SPAN,
             "created_at": NOW - SPAN} for i in range(50)])
        s.execute(insert(Integration.__table__), [
            {"service_id": 1 + i, "kind": "generic", "name": f"integration-{i}",
             "key": uuid.uuid4().hex, "created_at": NOW - SPAN} for i in range(20)])
    incidents, links, events, pages = [], [], [], []
    # Numbered in order of creation, as a live database numbers them (an import of old
    # history numbers out of order; data version 4 did, and docs/metrics.md has both).
    creations = sorted(NOW - SPAN + timedelta(seconds=rnd.randrange(int(SPAN.total_seconds())))
                       for _ in range(n_incidents))
    for i, created in enumerate(creations, start=1):
        sev = rnd.choices(["SEV1", "SEV2", "SEV3", "SEV4"], [1, 3, 5, 2])[0]
        log: list[tuple[datetime, str, dict[str, Any]]] = [(created, "created", {})]
        ack = created + timedelta(seconds=rnd.lognormvariate(5.5, 1.0))
        acked = rnd.random() < 0.92 and ack < NOW
        resolved_at = None
        if acked:
            log.append((ack, "status_changed", {"from": "triggered", "to": "acknowledged"}))
            if rnd.random() < 0.7:
                log.append((ack + timedelta(minutes=rnd.randrange(1, 60)), "note", {}))
            fix = ack + timedelta(seconds=rnd.lognormvariate(8.0, 1.2))
            if fix < NOW and rnd.random() < 0.95:
                log += [(fix, "status_changed", {"from": "acknowledged", "to": "resolved"}),
                        (fix, "resolved", {})]
                resolved_at = fix
                if rnd.random() < 0.05 and fix + timedelta(minutes=30) < NOW:
                    log += [(fix + timedelta(minutes=30), "status_changed",
                             {"from": "resolved", "to": "triggered"}),
                            (fix + timedelta(minutes=30), "reopened", {"to": "triggered"})]
                    resolved_at = None
        if rnd.random() < 0.2:
            log.append((created + timedelta(minutes=5), "escalated", {"level": 2}))
        log.sort(key=lambda e: e[0])
        status = "resolved" if resolved_at else ("acknowledged" if acked else "triggered")
        incidents.append({
            "id": i, "title": f"Incident {i}", "description": "", "severity": sev,
            "status": status, "impact": "medium", "urgency": "medium",
            "detection_source": rnd.choices(["monitor", "internal", "customer"], [7, 2, 1])[0],
            "restricted": i % 40 == 0, "detected_at": created, "last_update_at": created,
            "reopen_count": 0, "created_at": created, "updated_at": created,
            "impact_started_at": created - timedelta(seconds=rnd.randrange(20, 900)),
            "acknowledged_at": ack if acked else None, "resolved_at": resolved_at})
        links.append({"incident_id": i, "service_id": 1 + rnd.randrange(100)})
        events += [{"incident_id": i, "at": at, "kind": kind, "body": "", "data": data}
                   for at, kind, data in log]
        for k in range(rnd.choice([1, 1, 2])):
            user = rnd.randrange(50)
            at = created + timedelta(seconds=rnd.randrange(0, 300))
            if at < NOW:
                pages.append({"idempotency_key": f"b:{i}:{k}", "kind": "page", "status": "sent",
                              "incident_id": i, "user_id": 2 + user,
                              "contact_method_id": 1 + user, "due_at": at, "attempts": 1,
                              "payload": {}, "created_at": at, "sent_at": at})
    alerts, alert_events = [], []
    for a in range(1, n_alerts + 1):
        last = NOW - timedelta(seconds=rnd.randrange(int(timedelta(days=60).total_seconds())))
        alerts.append({"id": a, "scope": "bench", "dedup_key": f"a{a}",
                       "integration_id": 1 + a % 20, "service_id": 1 + a % 20,
                       "incident_id": 1 + rnd.randrange(n_incidents) if a % 3 == 0 else None,
                       "status": "resolved", "summary": "disk", "source": "bench",
                       "severity": "SEV3", "acknowledged": a % 4 == 0,
                       "first_seen_at": last - timedelta(hours=1), "last_seen_at": last,
                       # as triage keeps them: the events below resolve it 5 times
                       "resolve_count": 5, "resolve_1_at": last - timedelta(minutes=6),
                       "resolve_2_at": last - timedelta(minutes=18),
                       "resolve_3_at": last - timedelta(minutes=30)})
        alert_events += [{"alert_id": a, "at": last - timedelta(minutes=6 * k),
                          "action": "resolve" if k % 2 else "trigger",
                          "outcome": "resolved" if k % 2 else "updated"} for k in range(10)]
    for table, rows in ((Incident, incidents), (IncidentService, links),
                        (IncidentEvent, events), (Message, pages), (Alert, alerts),
                        (AlertEvent, alert_events)):
        bulk_insert(runtime, table, rows)
    if runtime.settings.database_kind == "postgresql":
        with runtime.engine.begin() as conn:  # sequences past the explicit ids
            for name in ("incidents", "alerts"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT max(id) FROM {name}))"))
    started = time.perf_counter()
    with runtime.sessions() as s, s.begin():  # the stored summary, as after the migration
        summary.rebuild(s)
    print(f"  stored summary of {n_incidents:,} incidents built from the log in "
          f"{time.perf_counter() - started:.1f}s")
    with runtime.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return {"incidents": n_incidents, "incident events": len(events), "pages": len(pages),
            "alerts": n_alerts, "alert events": len(alert_events)}


def slow_facts(session: Session, since: datetime, until: datetime) -> list[measures.Facts]:
    """Every incident of [since, until), the slow way: each incident and then its log, one
    ORM query per incident, every log entry (not only the kinds the fast path selects)."""
    out = []
    for incident in session.scalars(select(Incident).where(
            Incident.created_at >= since, Incident.created_at < until)):
        log = session.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.id)).all()
        out.append(measures.facts_of(
            id=incident.id, severity=incident.severity, created_at=incident.created_at,
            source=incident.detection_source, impact_started_at=incident.impact_started_at,
            events=[measures.Event(e.at, e.kind, e.data) for e in log]))
    return out


def slow_by_severity(facts: list[measures.Facts]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[measures.Facts]] = {}
    for f in facts:
        groups.setdefault(f.severity, []).append(f)
    return {k: measures.summarise(k, v).as_dict() for k, v in groups.items()}


def slow_compliance(facts: list[measures.Facts], now: datetime) -> dict[str, list[int]]:
    """[met, missed, pending] per measure over the window against the default targets,
    each incident judged here, written out again (not targets.py's code)."""
    out = {m: [0, 0, 0] for m in ("ack", "update", "resolve")}
    for f in facts:
        target = targets.DEFAULT_TARGETS[f.severity]
        for measure, minutes, done in (
                ("ack", target.ack_minutes, f.acknowledged_at),
                ("update", target.update_minutes, f.first_update_at),
                ("resolve", target.resolve_minutes, f.resolved_at)):
            if minutes is None:
                continue
            deadline = f.created_at + timedelta(minutes=minutes)
            if done is not None:
                out[measure][0 if done <= deadline else 1] += 1
            else:
                out[measure][1 if now > deadline else 2] += 1
    return out


def slow_pages(session: Session, since: datetime, until: datetime
               ) -> tuple[list[oncall_health.Person], list[oncall_health.PageSent]]:
    """Every active person and their page messages sent in [since, until), one ORM query
    per person (not the partial index the fast path reads), channels from the ORM too."""
    people, pages = [], []
    kinds = {c.id: c.kind for c in session.scalars(select(ContactMethod))}
    for user in session.scalars(select(User).where(User.active.is_(True))
                                .order_by(User.name, User.id)):
        people.append(oncall_health.Person(user.id, user.name, user.time_zone))
        pages += [oncall_health.PageSent(m.user_id, m.incident_id, m.sent_at,
                                         kinds[m.contact_method_id])
                  for m in session.scalars(select(Message).where(
                      Message.user_id == user.id, Message.kind == "page",
                      Message.status == "sent", Message.sent_at >= since,
                      Message.sent_at < until)) if m.sent_at is not None]
    return people, pages


def slow_noise(session: Session, since: datetime) -> dict[str, tuple[int, int, int, int]]:
    """(alerts, incidents, acknowledged alerts, flapping alerts) per integration from the raw
    alert log and rows: every resolution entry since `since` counted per alert (a scan of the
    whole log), not the alerts' kept resolution times; acknowledged when the alert or its
    incident was (each incident read by itself)."""
    resolves: dict[int, int] = {}
    for alert_id, at, action, outcome in session.execute(
            select(AlertEvent.alert_id, AlertEvent.at, AlertEvent.action, AlertEvent.outcome)):
        if at >= since and action == "resolve" and outcome == "resolved":
            resolves[alert_id] = resolves.get(alert_id, 0) + 1
    names = {i: n for i, n in session.execute(select(Integration.id, Integration.name))}
    acked_incidents: dict[int, bool] = {}
    seen: dict[str, tuple[int, set[int], int, int]] = {}
    for alert_id, integration_id, incident_id, acknowledged in session.execute(
            select(Alert.id, Alert.integration_id, Alert.incident_id, Alert.acknowledged)
            .where(Alert.last_seen_at >= since)):
        name = names.get(integration_id or 0, "detection (no integration)")
        n, incidents, acked, flapping = seen.get(name, (0, set(), 0, 0))
        if incident_id is not None:
            incidents.add(incident_id)
            if incident_id not in acked_incidents:
                acked_incidents[incident_id] = session.scalar(select(
                    Incident.acknowledged_at).where(Incident.id == incident_id)) is not None
        ack = acknowledged or (incident_id is not None and acked_incidents[incident_id])
        seen[name] = (n + 1, incidents, acked + ack, flapping + (resolves.get(alert_id, 0) >= 3))
    return {k: (n, len(i), a, f) for k, (n, i, a, f) in seen.items()}


def timed(client: TestClient, path: str, runs: int) -> list[float]:
    client.get(path)  # warm: templates, statement caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return times


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(int(len(ordered) * 0.99 + 0.999999) - 1, 0)]


CACHE_DIR = Path("/tmp/tocsin-bench-analytics")
DATA_VERSION = "5"  # bump when seed() changes what it writes (4: PostgreSQL vacuumed;
# 5: incidents numbered in order of creation)


def cache_key(scale: float) -> str:
    """The generated data's name: the scale, the seed's version and the schema (head
    revision, every table's columns and indexes), so a schema change generates afresh."""
    schema = "|".join(
        f"{t.name}:" + ",".join(f"{c.name}:{c.type}" for c in t.columns) + ";" + ",".join(
            sorted(f"{i.name}({','.join(c.name for c in i.columns)})"
                   f"{i.dialect_options['sqlite'].get('where')}" for i in t.indexes))
        for t in sorted(metadata.tables.values(), key=lambda t: t.name))
    digest = hashlib.sha1(f"{DATA_VERSION}|{migrate.head_revision()}|{schema}".encode())
    return f"s{scale:g}_{digest.hexdigest()[:10]}".replace(".", "p")


def _generate(settings: Settings, scale: float) -> dict[str, int]:
    runtime = build_runtime(settings, FrozenClock(NOW))
    migrate.upgrade(runtime.engine)
    started = time.perf_counter()
    counts = seed(runtime, scale, random.Random(18))
    print(f"{settings.database_kind}: generated " + ", ".join(
        f"{v:,} {k}" for k, v in counts.items()) + f" in {time.perf_counter() - started:.1f}s")
    if runtime.engine.dialect.name == "postgresql":
        # What autovacuum (on by default) does to a live database after bulk writes: the
        # visibility map and statistics. Without them PostgreSQL cannot read an index alone
        # (an index-only scan must visit the table) and plans on guesses; the bench's server
        # runs with autovacuum off, so the bench does it once here, as a server would.
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    runtime.close()  # SQLite: the last connection closed folds the WAL into the file
    return counts


def sqlite_data(tmp: Path, scale: float) -> None:
    """tmp/tocsin.db: a copy of the cached generated database (made first if missing)."""
    key = cache_key(scale)
    cached = CACHE_DIR / f"{key}.db"
    if not cached.exists():
        building = CACHE_DIR / f"building-{uuid.uuid4().hex[:8]}"
        building.mkdir(parents=True)
        _generate(load_settings(env="dev", data_dir=building), scale)
        if (building / "tocsin.db-wal").exists():
            sqlite3.connect(building / "tocsin.db").execute(
                "PRAGMA wal_checkpoint(TRUNCATE)").close()
        (building / "tocsin.db").replace(cached)
        shutil.rmtree(building, ignore_errors=True)
    else:
        print(f"sqlite: generated data from the cache {cached}")
    shutil.copyfile(cached, tmp / "tocsin.db")


@contextmanager
def postgres_data(server_url: str, scale: float, tmp: Path) -> Iterator[str]:
    """A throw-away copy (CREATE DATABASE ... TEMPLATE) of the cached generated database on
    `server_url` (made first if missing); dropped afterwards."""
    cached = f"tocsin_bench_analytics_{cache_key(scale)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    url = make_url(server_url)
    try:
        with admin.connect() as conn:
            have = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                               {"n": cached})
        if not have:
            building = f"{cached}_b{uuid.uuid4().hex[:6]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{building}"'))
            try:
                _generate(load_settings(env="dev", data_dir=tmp, database_url=url.set(
                    database=building).render_as_string(hide_password=False)), scale)
            except BaseException:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                raise
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{cached}"'))
        else:
            print(f"postgresql: generated data from the cached database {cached}")
        name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{cached}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def run(tmp: Path, database_url: str | None, scale: float, runs: int) -> int:
    settings = load_settings(env="dev", data_dir=tmp, database_url=database_url)
    runtime = build_runtime(settings, FrozenClock(NOW))
    migrate.upgrade(runtime.engine)
    app = create_app(runtime)
    # As `tocsin serve` serves it (app.create_served_app): routes built at start-up and what
    # start-up made moved out of the garbage collector's sight (api/warmup.py), in the
    # app's lifespan, which the client runs when entered.
    app.state.freeze_after_startup = True
    client = TestClient(app)
    client.__enter__()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    r = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD,
                                    "csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    year = (NOW - timedelta(days=365)).isoformat().replace("+00:00", "Z")
    failed = False
    print(f"{'what (last 90 days unless said)':52s} {'median':>9s} {'p99':>9s}  target")
    for label, path in (
            ("metrics page /analytics", "/analytics"),
            ("quarterly review page", "/analytics/review?quarter=2026-Q3"),
            ("GET /api/v1/metrics/incidents?by=severity", "/api/v1/metrics/incidents"),
            ("GET /api/v1/metrics/incidents?by=service", "/api/v1/metrics/incidents?by=service"),
            ("GET /api/v1/metrics/incidents, a year per month",
             f"/api/v1/metrics/incidents?by=period&period=month&since={year}"),
            ("GET /api/v1/metrics/compliance", "/api/v1/metrics/compliance"),
            ("GET /api/v1/metrics/oncall", "/api/v1/metrics/oncall"),
            ("GET /api/v1/metrics/incidents.csv", "/api/v1/metrics/incidents.csv"),
            ("GET /api/v1/alert-noise (30 days)", "/api/v1/alert-noise")):
        times = timed(client, path, runs)
        ok = p99(times) < TARGET_MS
        failed |= not ok
        print(f"{label:52s} {statistics.median(times):7.1f}ms {p99(times):7.1f}ms  "
              f"< {TARGET_MS:.0f} ms {'OK' if ok else 'MISSED'}")
    api = client.get("/api/v1/metrics/incidents").json()
    since, until = (datetime.fromisoformat(api["since"]), datetime.fromisoformat(api["until"]))
    started = time.perf_counter()
    with runtime.sessions() as session:
        facts = slow_facts(session, since, until)
        people, sent = slow_pages(session, since, until)
    slow = slow_by_severity(facts)
    slow_judged = slow_compliance(facts, NOW)
    slow_health = [dict(asdict(h), warning=h.warning) for h in oncall_health.health(
        sent, people, per_shift_limit=runtime.settings.analytics_pages_per_shift)]
    slow_s = time.perf_counter() - started
    fast = {r["group"]: {k: v for k, v in r.items()} for r in api["rows"]}
    same = fast == slow
    comp = client.get("/api/v1/metrics/compliance").json()
    fast_judged = {m: [0, 0, 0] for m in slow_judged}
    for r in comp["rows"]:
        for i, k in enumerate(("met", "missed", "pending")):
            fast_judged[r["measure"]][i] += r[k]
    same_judged = fast_judged == slow_judged
    oncall = client.get("/api/v1/metrics/oncall").json()
    same_pages = oncall["people"] == slow_health
    same_heat = (oncall["heat_map"] == oncall_health.heat_map(sent, "UTC") and
                 oncall["by_channel"] == oncall_health.by_channel(oncall_health.collapse(sent)))
    print(f"slow full computation ({len(facts):,} incidents, {len(sent):,} page messages) in "
          f"{slow_s:.1f}s: per-severity figures {'agree' if same else 'DIFFER'}, "
          f"target verdicts {'agree' if same_judged else 'DIFFER'}, each person's on-call "
          f"figures {'agree' if same_pages else 'DIFFER'}, heat map and channels "
          f"{'agree' if same_heat else 'DIFFER'}")
    if not same:
        for key in sorted(set(fast) | set(slow)):
            if fast.get(key) != slow.get(key):
                print(f"  {key}: api {fast.get(key)}\n  {key}: slow {slow.get(key)}")
    if not same_judged:
        print(f"  verdicts: api {fast_judged}\n  verdicts: slow {slow_judged}")
    noise = client.get("/api/v1/alert-noise").json()
    started = time.perf_counter()
    with runtime.sessions() as session:
        slow_noisy = slow_noise(session, datetime.fromisoformat(noise["since"]))
    same_noise = {r["name"]: (r["alerts"], r["incidents"], r["alerts"] - r["no_action_30d"],
                              r["flapping_alerts"])
                  for r in noise["integrations"]} == slow_noisy
    print(f"slow alert-noise computation ({sum(v[0] for v in slow_noisy.values()):,} alerts, "
          f"from the whole alert log) in {time.perf_counter() - started:.1f}s: alerts, "
          f"incidents, acknowledged and flapping alerts per integration "
          f"{'agree' if same_noise else 'DIFFER'}")
    same = same and same_judged and same_heat
    client.__exit__(None, None, None)
    runtime.close()
    return 1 if failed or not same or not same_pages or not same_noise else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of 100,000 incidents / 2,000,000 alert events")
    parser.add_argument("--postgres", metavar="SERVER_URL",
                        help="run on a fresh database created (and dropped) on this server")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
    try:
        if args.postgres:
            with postgres_data(args.postgres, args.scale, tmp) as database_url:
                return run(tmp, database_url, args.scale, args.runs)
        sqlite_data(tmp, args.scale)
        return run(tmp, None, args.scale, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
