"""Paging benchmarks: escalation precision, event-to-page latency, crash test with kill -9,
and schedule queries. Real processes (`tocsin worker`, `tocsin serve`), real databases, a real
loopback HTTP server receiving the webhook pages. Prints one table per benchmark.

    .venv/bin/python bench/paging.py [all|precision|latency|hanging|crash|schedules|triage]
        [--incidents 10000] [--window 60] [--rate 500] [--seconds 4] [--no-postgres]

Figures depend on the machine and on whatever else runs on it; each run says what it did.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from tests.conftest import LOOPBACK_ALLOWED as LOOPBACK  # noqa: E402
from tests.conftest import create_pg_database, drop_pg_database, pg_available  # noqa: E402
from tests.notify.seed import seed_paging  # noqa: E402
from tests.notify.servers import http_receiver  # noqa: E402
from tocsin.clock import SystemClock  # noqa: E402
from tocsin.db import migrate  # noqa: E402
from tocsin.engine.models import Timer  # noqa: E402
from tocsin.escalation.models import Escalation  # noqa: E402
from tocsin.escalation.service import TIMER_STEP, timer_key  # noqa: E402
from tocsin.incidents import lifecycle as lc  # noqa: E402
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService  # noqa: E402
from tocsin.intake.models import InboxRow, InboxStatus  # noqa: E402
from tocsin.notify.models import Message  # noqa: E402
from tocsin.runtime import Runtime  # noqa: E402
from tocsin.settings import load_settings  # noqa: E402
from tocsin.wiring import build_runtime  # noqa: E402

PG_SERVER = os.environ.get("TOCSIN_BENCH_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-" + "x" * 20


# ---- plumbing -------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    url = create_pg_database(PG_SERVER)
    try:
        yield url
    finally:
        drop_pg_database(PG_SERVER, url)


def runtime_for(url: str, tmp: Path) -> Runtime:
    rt = build_runtime(load_settings(env="dev", data_dir=tmp, database_url=url,
                                     secret_key=SECRET, outbound_allow=LOOPBACK),
                       SystemClock())
    migrate.upgrade(rt.engine)
    return rt


def env_for(url: str, tmp: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp),
            "TOCSIN_DATABASE_URL": url, "TOCSIN_SECRET_KEY": SECRET,
            "TOCSIN_LOG_LEVEL": "WARNING", "TOCSIN_NOTIFY_RATE_LIMIT_PER_MINUTE": "1000000",
            "TOCSIN_NOTIFY_DEDUP_SECONDS": "0",
            "TOCSIN_OUTBOUND_ALLOW": json.dumps(LOOPBACK), **extra}


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen([sys.executable, "-m", "tocsin", *args], env=env, stdout=out,
                            stderr=subprocess.STDOUT)


def stop(procs: list[subprocess.Popen[Any]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---- escalation precision ---------------------------------------------------------------------

def seed_steps(rt: Runtime, service_id: int, user_id: int, count: int, first_due: datetime,
               window: float) -> None:
    """`count` open incidents, each with an active escalation whose first step is a pending
    timer, due times spread evenly over `window` seconds (bulk inserts: seeding is not what
    is measured)."""
    now = rt.clock.now()
    snapshot = {"policy_id": None, "name": "bench", "repeat": 0, "levels": [
        {"delay_minutes": 5, "targets": [{"kind": "user", "id": user_id, "mode": "all"}]}]}
    with rt.sessions() as s, s.begin():
        start = int(s.scalar(select(func.coalesce(func.max(Incident.id), 0))) or 0) + 1
        ids = list(range(start, start + count))
        s.execute(insert(Incident), [dict(
            id=i, title=f"bench {i}", description="", status="triggered", severity="SEV1",
            impact="high", urgency="high", detection_source="monitor", restricted=False,
            detected_at=now, last_update_at=now, reopen_count=0, created_at=now, updated_at=now)
            for i in ids])
        s.execute(insert(IncidentService), [dict(incident_id=i, service_id=service_id)
                                            for i in ids])
        s.execute(insert(Escalation), [dict(
            incident_id=i, policy_id=None, severity="SEV1", snapshot=snapshot, status="active",
            level=0, loop=0, generation=1, started_at=now, updated_at=now) for i in ids])
        step = window / count
        s.execute(insert(Timer), [dict(
            kind=TIMER_STEP, key=timer_key(i), due_at=first_due + timedelta(seconds=n * step),
            payload={"incident_id": i, "generation": 1, "level": 0, "loop": 0,
                     "key": timer_key(i)}, generation=1, status="pending", attempts=0,
            created_at=now) for n, i in enumerate(ids)])
        if s.get_bind().dialect.name == "postgresql":
            s.execute(func.setval("incidents_id_seq", start + count).select())


def precision(kind: str, workers: int, count: int, window: float, measure: float) -> list[Any]:
    """`count` pending first steps due evenly over `window` s; the workers run for `measure` s
    after the first is due. Steps due more than 2 s before the end must have fired."""
    with tempfile.TemporaryDirectory() as d, database(kind, Path(d)) as url:
        tmp = Path(d)
        rt = runtime_for(url, tmp)
        with http_receiver() as (got, hook):
            seed = seed_paging(rt, webhook_url=hook + "/page")
            env = env_for(url, tmp)
            procs = [spawn(["worker"], env, tmp / f"w{i}.log") for i in range(workers)]
            try:
                # Process start-up (imports, connections) is not what is measured: the steps
                # are written once the workers have had time to come up.
                time.sleep(15)
                first_due = rt.clock.now() + timedelta(seconds=10)  # seeding takes a while
                seed_steps(rt, seed["service_id"], seed["users"][0], count, first_due, window)
                time.sleep(max(0.0, (first_due - rt.clock.now()).total_seconds()) + measure)
            finally:
                end = rt.clock.now()
                stop(procs)
            received = Counter(r.headers.get("Idempotency-Key") for r in got)
        cutoff = end - timedelta(seconds=2)
        with rt.sessions() as s:
            fired = s.execute(select(Timer.due_at, Timer.fired_at).where(
                Timer.kind == TIMER_STEP, Timer.status == "done")).all()
            missed = s.scalar(select(func.count()).select_from(Timer).where(
                Timer.kind == TIMER_STEP, Timer.status != "done", Timer.due_at <= cutoff))
            per_incident = Counter(s.scalars(select(IncidentEvent.incident_id).where(
                IncidentEvent.kind.in_([lc.EventKind.ESCALATED.value,
                                        lc.EventKind.NOBODY_PAGED.value]))).all())
            pages = s.execute(select(Message.incident_id, Message.sent_at)
                              .where(Message.status == "sent")).all()
        due_of = dict(s_due(rt))
        rt.close()
    lateness = [(f - d).total_seconds() for d, f in fired]
    page_late = [(at - due_of[i]).total_seconds() for i, at in pages if i in due_of]
    dup_steps = sum(n - 1 for n in per_incident.values() if n > 1)
    dup_pages = sum(n - 1 for n in received.values() if n > 1)
    return [f"{kind} ({workers} worker{'s' if workers > 1 else ''})",
            f"{count / window:.1f}/s", len(lateness),
            f"{pct(lateness, 50):.3f}", f"{pct(lateness, 99):.3f}",
            f"{max(lateness, default=float('nan')):.3f}", missed, dup_steps,
            f"{pct(page_late, 50):.3f}", f"{pct(page_late, 99):.3f}", len(received), dup_pages]


def s_due(rt: Runtime) -> list[tuple[int, datetime]]:
    with rt.sessions() as s:
        rows = s.execute(select(Timer.payload, Timer.due_at).where(Timer.kind == TIMER_STEP))
        return [(int(p["incident_id"]), d) for p, d in rows]


def run_precision(args: argparse.Namespace) -> None:
    rows = []
    runs = [("sqlite", 1)]
    if not args.no_postgres and pg_available(PG_SERVER) is None:
        runs.append(("postgresql", 2))
    for kind, workers in runs:
        rows.append(precision(kind, workers, args.incidents, args.window, args.measure))
    table(f"Escalation precision: {args.incidents} open incidents, each with a pending first "
          f"step, due evenly over {args.window:.0f} s; workers run {args.measure:.0f} s. "
          "Lateness = claimed at - due (s); page = webhook sent at - due (s)",
          ["database", "due rate", "fired", "p50", "p99", "max", "missed", "dup steps",
           "page p50", "page p99", "pages recv", "dup pages"], rows)
    if args.stress:
        rows = [precision(kind, workers, args.stress, 20, 20 + 40) for kind, workers in runs]
        table(f"Stress: {args.stress} steps due within 20 s (workers run 60 s)",
              ["database", "due rate", "fired", "p50", "p99", "max", "missed", "dup steps",
               "page p50", "page p99", "pages recv", "dup pages"], rows)


# ---- event to page latency --------------------------------------------------------------------

def seed_intake(rt: Runtime, hook: str) -> str:
    from tocsin.alerts import manage
    from tocsin.alerts.schemas import IntegrationCreate
    from tocsin.escalation import service as escalation
    from tocsin.escalation.schemas import ServicePoliciesIn

    seed = seed_paging(rt, webhook_url=hook + "/page")
    with rt.sessions() as s, s.begin():
        escalation.set_service_policies(s, service_id=seed["service_id"], data=ServicePoliciesIn(
            policies={sev: seed["policy_id"] for sev in lc.Severity}))
        integration = manage.create_integration(s, now=rt.clock.now(), data=IntegrationCreate(
            service_id=seed["service_id"], kind="pagerduty", name="bench"))
        return integration.key


def wait_up(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {base} did not come up")


TOOLS = Path(__file__).resolve().parent / "loadtools.py"
EVENT_TEMPLATE = json.dumps({"routing_key": "@ROUTING@", "event_action": "trigger",
                             "dedup_key": "@KEY@", "payload": {"summary": "bench @KEY@",
                                                              "source": "bench",
                                                              "severity": "critical"}})


def lean_post(port: int, key: str, rate: float, seconds: float, prefix: str,
              tmp: Path, routing: list[str] | None = None) -> dict[str, float]:
    """Post from a separate lean process (bench/loadtools.py); returns each accepted
    event's due time by dedup key. `routing`: spread the events over these integration
    keys in turn instead of sending all to `key`."""
    out = tmp / f"{prefix}.sent"
    template = EVENT_TEMPLATE if routing else EVENT_TEMPLATE.replace("@ROUTING@", key)
    subprocess.run([sys.executable, str(TOOLS), "post", str(port), str(rate), str(seconds),
                    prefix, str(out), *([",".join(routing)] if routing else [])],
                   input=template, text=True, check=True)
    return {k: float(t) for k, t in (line.split("\t") for line in out.read_text().splitlines())}


@contextmanager
def lean_receiver(tmp: Path, mode: str = "receive") -> Iterator[tuple[str, Path]]:
    """A page receiver in its own process: (its URL, the file of `title<TAB>arrival`).
    `mode` "hang": one that accepts connections and never answers."""
    out = tmp / "pages.received"
    out.touch()
    proc = subprocess.Popen([sys.executable, str(TOOLS), mode,
                             *([str(out)] if mode == "receive" else [])],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    try:
        yield f"http://127.0.0.1:{port}", out
    finally:
        stop([proc])


def arrivals_in(path: Path) -> dict[str, float]:
    """First arrival of each page by its event's dedup key."""
    found: dict[str, float] = {}
    for line in path.read_text().splitlines():
        title, _, at = line.rpartition("\t")
        if at:
            found.setdefault(title.removeprefix("bench "), float(at))
    return found


def latency(rate: float, seconds: float) -> list[Any]:
    with tempfile.TemporaryDirectory() as d, database("sqlite", Path(d)) as url:
        tmp = Path(d)
        with lean_receiver(tmp) as (hook, pages):
            rt = runtime_for(url, tmp)
            key = seed_intake(rt, hook)
            rt.close()
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            # The default dedup window (60 s): its look-up is part of each page's cost.
            proc = spawn(["serve", "--port", str(port)],
                         env_for(url, tmp, TOCSIN_NOTIFY_DEDUP_SECONDS="60"), tmp / "serve.log")
            try:
                wait_up(base)
                lean_post(port, key, 5, 1, "warmup", tmp)  # first requests pay for imports
                time.sleep(2)
                cpu_before = cpu_seconds(proc.pid)
                began = time.monotonic()
                sent = lean_post(port, key, rate, seconds, "lat", tmp)
                achieved = len(sent) / max(1e-9, time.monotonic() - began)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if len(arrivals_in(pages).keys() & sent.keys()) >= len(sent):
                        break
                    time.sleep(0.2)
                # Idle polling after the last page is not the events' cost: read at once.
                cpu_used = cpu_seconds(proc.pid) - cpu_before
            finally:
                stop([proc])
            arrivals = arrivals_in(pages)
    lat = [(arrivals[k] - t) * 1000 for k, t in sent.items() if k in arrivals]
    return [f"{rate:.0f}/s x {seconds:.0f}s", len(sent), f"{achieved:.0f}/s", len(lat),
            f"{pct(lat, 50):.1f}", f"{pct(lat, 99):.1f}", f"{max(lat, default=float('nan')):.1f}",
            f"{cpu_used / max(1, len(sent)) * 1000:.2f}"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its descendants (Linux /proc; `tocsin
    serve` runs its engine and delivery as child processes): the server's own cost per
    event, which other work on the machine does not inflate as much as latency."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, CPU seconds)
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    family, total, grew = {pid}, 0.0, True
    while grew:
        more = {p for p, (parent, _) in stats.items() if parent in family} - family
        family |= more
        grew = bool(more)
    for p in family:
        total += stats.get(p, (0, 0.0))[1]
    return total


def run_latency(args: argparse.Namespace) -> None:
    rates = [float(r) for r in args.rates.split(",")] if args.rates else [5, 50, args.rate]
    rows = [latency(r, max(args.seconds, 6) if r < 10 else args.seconds) for r in rates]
    table("Event to page: PagerDuty event POSTed to `tocsin serve` (SQLite) -> webhook page "
          "received by a loopback HTTP server (ms, from each event's scheduled send time; "
          "sender and receiver are lean separate processes)",
          ["offered load", "accepted", "achieved", "paged", "p50 ms", "p99 ms", "max ms",
           "server CPU ms/event"], rows)


# ---- one receiver of ten hanging ----------------------------------------------------------

RECEIVERS = 10


def seed_receivers(rt: Runtime, healthy: str, stuck: str) -> list[str]:
    """Ten services, each paging its own user on its own webhook, the last one to a receiver
    that never answers; returns their integration keys (the stuck one last)."""
    from tocsin.alerts import manage
    from tocsin.alerts.schemas import IntegrationCreate
    from tocsin.escalation import service as escalation
    from tocsin.escalation.schemas import ServicePoliciesIn

    keys = []
    for i in range(RECEIVERS):
        url = stuck if i == RECEIVERS - 1 else f"{healthy}/r{i}"
        seed = seed_paging(rt, webhook_url=url, name=f"r{i}")
        with rt.sessions() as s, s.begin():
            escalation.set_service_policies(s, service_id=seed["service_id"],
                                            data=ServicePoliciesIn(policies={
                                                sev: seed["policy_id"] for sev in lc.Severity}))
            keys.append(manage.create_integration(s, now=rt.clock.now(), data=IntegrationCreate(
                service_id=seed["service_id"], kind="pagerduty", name=f"bench r{i}")).key)
    return keys


def hanging(rate: float, seconds: float) -> list[Any]:
    """Event to page for the nine healthy receivers while the tenth hangs until the webhook
    timeout (10 s) on every page it gets."""
    with tempfile.TemporaryDirectory() as d, database("sqlite", Path(d)) as url:
        tmp = Path(d)
        (tmp / "stuck").mkdir()
        with lean_receiver(tmp) as (hook, pages), \
                lean_receiver(tmp / "stuck", "hang") as (stuck, _):
            rt = runtime_for(url, tmp)
            keys = seed_receivers(rt, hook, stuck + "/hook")
            rt.close()
            port = free_port()
            proc = spawn(["serve", "--port", str(port)],
                         env_for(url, tmp, TOCSIN_NOTIFY_DEDUP_SECONDS="60"), tmp / "serve.log")
            try:
                wait_up(f"http://127.0.0.1:{port}")
                # First requests pay for imports; the stuck receiver's page is in flight
                # (until the timeout) before the measured events start, and the healthy
                # ones have arrived (the engine's first triage can take seconds).
                warm = lean_post(port, "", 10, 1, "warmup", tmp, routing=keys)
                deadline = time.monotonic() + 60
                while len(arrivals_in(pages).keys() & warm.keys()) < len(warm) - 1 \
                        and time.monotonic() < deadline:
                    time.sleep(0.1)
                time.sleep(1)
                sent = lean_post(port, "", rate, seconds, "hang", tmp, routing=keys)
                # Events i with i mod 10 == 9 page the stuck receiver: never received.
                wanted = {k for k in sent if int(k.rsplit("-", 1)[1]) % RECEIVERS
                          != RECEIVERS - 1}
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    if len(arrivals_in(pages).keys() & wanted) >= len(wanted):
                        break
                    time.sleep(0.2)
            finally:
                stop([proc])
            arrivals = arrivals_in(pages)
    lat = [(arrivals[k] - sent[k]) * 1000 for k in wanted if k in arrivals]
    return [f"{rate:.0f}/s x {seconds:.0f}s", len(wanted), len(lat), f"{pct(lat, 50):.1f}",
            f"{pct(lat, 99):.1f}", f"{max(lat, default=float('nan')):.1f}"]


def run_hanging(args: argparse.Namespace) -> None:
    rates = [float(r) for r in args.rates.split(",")] if args.rates else [20, 200]
    rows = [hanging(r, max(args.seconds, 4)) for r in rates]
    table("Event to page with 1 of 10 receivers hanging: PagerDuty events POSTed to `tocsin "
          "serve` (SQLite) spread over 10 services, each paging its own webhook; the 10th "
          "receiver accepts and never answers (10 s webhook timeout). Latency of the 9 "
          "healthy receivers' pages (ms, from each event's scheduled send time)",
          ["offered load", "healthy pages due", "received", "p50 ms", "p99 ms", "max ms"],
          rows)


# ---- crash test ---------------------------------------------------------------------------

def crash(count: int, rate: float) -> list[Any]:
    """`tocsin serve` takes `count` events while being SIGKILLed at random moments and
    restarted; the sender retries refused/failed posts (as PagerDuty clients do)."""
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as d, database("sqlite", Path(d)) as url:
        tmp = Path(d)
        with http_receiver() as (got, hook):
            rt = runtime_for(url, tmp)
            key = seed_intake(rt, hook)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = env_for(url, tmp, TOCSIN_NOTIFY_LEASE_SECONDS="5")
            proc = spawn(["serve", "--port", str(port)], env, tmp / "serve.log")
            wait_up(base)
            done = threading.Event()
            accepted: set[str] = set()

            def sender() -> None:
                client = httpx.Client(base_url=base, timeout=5)
                for i in range(count):
                    k = f"crash-{i}"
                    body = {"routing_key": key, "event_action": "trigger", "dedup_key": k,
                            "payload": {"summary": f"bench {k}", "source": "bench",
                                        "severity": "critical"}}
                    while True:
                        try:
                            if client.post("/v2/enqueue", json=body).status_code == 202:
                                accepted.add(k)
                                break
                        except httpx.HTTPError:
                            pass
                        time.sleep(0.05)
                    time.sleep(1 / rate)
                done.set()

            thread = threading.Thread(target=sender, daemon=True)
            thread.start()
            kills = 0
            try:
                while not done.is_set():
                    time.sleep(rng.uniform(1.0, 4.0))
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    proc = spawn(["serve", "--port", str(port)], env, tmp / "serve.log")
                    wait_up(base)
                # Let the last server finish triage and delivery: pages are written by
                # triage, so no message pending means nothing only once the inbox is done.
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    with rt.sessions() as s:
                        waiting = s.scalar(select(func.count()).select_from(InboxRow).where(
                            InboxRow.status == InboxStatus.PENDING))
                        unsent = s.scalar(select(func.count()).select_from(Message).where(
                            Message.status.in_(["pending", "sending"])))
                    if not waiting and not unsent:
                        break
                    time.sleep(0.5)
            finally:
                stop([proc])
            keys = Counter(r.headers.get("Idempotency-Key") for r in got)
        with rt.sessions() as s:
            due = s.scalar(select(func.count()).select_from(Message)
                           .where(Message.kind == "page")) or 0
            statuses = Counter(s.scalars(select(Message.status)
                                         .where(Message.kind == "page")).all())
            incidents = s.scalar(select(func.count()).select_from(Incident)) or 0
        rt.close()
    delivered = len(keys)
    dups = sum(n - 1 for n in keys.values() if n > 1)
    return [count, len(accepted), incidents, kills, due, delivered, due - delivered, dups,
            f"{dups / kills:.2f}" if kills else "-", dict(statuses)]


def run_crash(args: argparse.Namespace) -> None:
    table("Crash test: `tocsin serve` (SQLite) SIGKILLed at random 1-4 s after each start and "
          "restarted while 1,000 PagerDuty events arrive; pages counted at a loopback receiver",
          ["events", "accepted", "incidents", "kills", "pages due", "delivered", "lost",
           "duplicates", "dup/kill", "page statuses"], [crash(args.crash_events, 25)])


# ---- triage cost in process ------------------------------------------------------------------

def triage_cost(kind: str, events: int) -> list[Any]:
    """`events` PagerDuty triggers accepted through the API, then triaged in this thread
    (`process_batch` until the inbox is empty); this thread's CPU time and the statements
    sent, per new incident (alert, incident, timeline, escalation, first page written)."""
    import re

    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from tocsin.app import create_app
    from tocsin.intake.processor import process_batch

    with tempfile.TemporaryDirectory() as d, database(kind, Path(d)) as url:
        rt = runtime_for(url, Path(d))
        key = seed_intake(rt, "http://127.0.0.1:9")
        with TestClient(create_app(rt)) as client:
            for i in range(events + 50):
                r = client.post("/v2/enqueue", json={
                    "routing_key": key, "event_action": "trigger", "dedup_key": f"t{i}",
                    "payload": {"summary": f"t{i}", "source": "bench", "severity": "critical"}})
                assert r.status_code == 202, r.text
        process_batch(rt, limit=50)  # warm-up: compiled statement caches, config cache
        statements: Counter[str] = Counter()

        @event.listens_for(rt.engine, "before_cursor_execute")
        def count(_c: Any, _cur: Any, stmt: str, *_: Any) -> None:
            statements[" ".join(re.sub(r"\s+", " ", stmt).split(" ")[:3])] += 1

        cpu = time.thread_time()
        done = 0
        while handled := process_batch(rt, limit=50):
            done += handled
        cpu = time.thread_time() - cpu
        rt.close()
    top = ", ".join(f"{k} x{v / done:.1f}" for k, v in statements.most_common(3))
    return [kind, done, f"{cpu / done * 1000:.2f}", f"{sum(statements.values()) / done:.1f}",
            top]


def run_triage(args: argparse.Namespace) -> None:
    kinds = ["sqlite"] + ([] if args.no_postgres or pg_available(PG_SERVER) else ["postgresql"])
    table("Triage in process: one new PagerDuty alert -> incident -> escalation -> first "
          "page written (this thread's CPU; statements per incident)",
          ["database", "incidents", "CPU ms/incident", "statements/incident",
           "most frequent"], [triage_cost(k, args.triage_events) for k in kinds])


# ---- schedule queries -----------------------------------------------------------------------

def run_schedules(args: argparse.Namespace) -> None:
    from tocsin.accounts import service as accounts
    from tocsin.accounts.schemas import UserCreate
    from tocsin.schedules import oncall
    from tocsin.schedules import service as schedules
    from tocsin.schedules.schemas import LayerIn, OverrideIn, ScheduleIn, WindowIn

    rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as d, database("sqlite", Path(d)) as url:
        rt = runtime_for(url, Path(d))
        now = rt.clock.now()
        with rt.sessions() as s, s.begin():
            users = [accounts.create_user(s, now=now, data=UserCreate(
                name=f"u{i}", email=f"u{i}@example.com")).id for i in range(50)]
            for n in range(1000):
                sched = schedules.create_schedule(s, now=now, data=ScheduleIn(
                    name=f"s{n}", time_zone=random.choice(
                        ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
                    layers=[LayerIn(name="weekly", participants=random.sample(users, 5),
                                    start=datetime(2025, 1, 6, 9))]))
                schedules.add_override(s, schedule=sched, now=now, data=OverrideIn(
                    user_id=users[0], start=now + timedelta(days=1),
                    end=now + timedelta(days=2)))
        with rt.sessions() as s:
            everything = schedules.list_schedules(s)
            t = time.perf_counter()
            found = schedules.on_call(s, schedules=everything, at=now)
            rows.append(["who is on call now, 1,000 schedules (DB + resolve)",
                         f"{(time.perf_counter() - t) * 1000:.0f} ms",
                         f"{sum(1 for v in found.values() if v)} covered"])
        rt.close()
    day = WindowIn(days=[0, 1, 2, 3, 4], start=dtime(9), end=dtime(17))
    layers = [
        LayerIn(name="primary", participants=list(range(1, 6)), unit="weeks",
                start=datetime(2025, 12, 29, 9)),
        LayerIn(name="business", participants=list(range(6, 10)), unit="days",
                start=datetime(2025, 12, 29, 9), restrictions=[day]),
        LayerIn(name="sun", participants=list(range(10, 14)), unit="hours", length=12,
                start=datetime(2025, 12, 29, 8)),
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    overrides = tuple(oncall.Override(100 + i, start + timedelta(days=3 * i, hours=2),
                                      start + timedelta(days=3 * i, hours=8)) for i in range(100))
    definition = oncall.Schedule("America/New_York", tuple(
        schedules._layer(x) for x in layers), overrides)
    t = time.perf_counter()
    result = oncall.final_shifts(definition, start, start + timedelta(days=365))
    rows.append(["one year of final shifts, 3 layers + 100 overrides (pure)",
                 f"{(time.perf_counter() - t) * 1000:.0f} ms",
                 f"{len(result.shifts)} shifts, {len(result.gaps)} gaps"])
    t = time.perf_counter()
    for i in range(1000):
        oncall.on_call_at(definition, start + timedelta(hours=7 * i))
    rows.append(["on_call_at x 1,000 instants on that schedule (pure)",
                 f"{(time.perf_counter() - t) * 1000:.0f} ms", ""])
    table("Schedule queries", ["query", "time", "result"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", nargs="?", default="all",
                        choices=["all", "precision", "latency", "hanging", "crash",
                                 "schedules", "triage"])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=3600.0,
                        help="seconds over which the pending steps fall due")
    parser.add_argument("--measure", type=float, default=60.0,
                        help="seconds the workers run once steps start falling due")
    parser.add_argument("--stress", type=int, default=1000,
                        help="also run this many steps due within 20 s (0: skip)")
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rates", default="",
                        help="latency: comma-separated offered rates (default 5,50,--rate;"
                        " hanging: 20,200)")
    parser.add_argument("--crash-events", type=int, default=1000)
    parser.add_argument("--triage-events", type=int, default=400)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"bench/paging.py {args.which} on {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f} at start")
    runs = {"schedules": run_schedules, "precision": run_precision, "latency": run_latency,
            "hanging": run_hanging, "crash": run_crash, "triage": run_triage}
    for name, run in runs.items():
        if args.which in (name, "all"):
            run(args)


if __name__ == "__main__":
    main()
