"""Intake benchmark: Tocsin's PagerDuty endpoint and Alertmanager webhook on SQLite and
PostgreSQL, side by side with Prometheus Alertmanager's own /api/v2/alerts, all driven by
the same load generator (wrk), each run bounded in time. Prints one table.

    .venv/bin/python bench/intake.py [--seconds 5] [--connections 16] [--no-postgres]

Every Tocsin 2xx here is durable: the event is committed to the intake inbox before the
answer (SQLite: in the write-ahead log; `--sqlite-synchronous full` also fsyncs it).
Alertmanager keeps alerts in memory only. Accepting is not triaging: a second table shows
how fast `tocsin worker` turns the accepted backlog into alerts and incidents, and what is
left of it — the CPU % column is the API process's CPU time over the run's wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("TOCSIN_BENCH_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WRK = shutil.which("wrk")
AM = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

# 30% of events repeat one of 200 dedup keys; the rest are new alerts.
LUA_PD = """
math.randomseed(os.time())
local n = 0
request = function()
  n = n + 1
  local k
  if math.random() < 0.3 then k = "rep-" .. math.random(1, 200)
  else k = "u-" .. n .. "-" .. math.random(1, 1000000000) end
  local body = '{"routing_key":"KEY","event_action":"trigger","dedup_key":"' .. k ..
    '","payload":{"summary":"bench ' .. k .. '","source":"bench","severity":"info"}}'
  return wrk.format("POST", "/v2/enqueue", {["Content-Type"] = "application/json"}, body)
end
"""

LUA_BATCH = """
math.randomseed(os.time())
local n = 0
request = function()
  local items = {}
  for i = 1, BATCH do
    n = n + 1
    local k
    if math.random() < 0.3 then k = "rep-" .. math.random(1, 200)
    else k = "u-" .. n .. "-" .. math.random(1, 1000000000) end
    items[i] = ALERT
  end
  local body = BODY
  return wrk.format("POST", "PATH", {["Content-Type"] = "application/json"}, body)
end
"""
AM_ALERT = ('\'{"labels":{"alertname":"bench","key":"\' .. k .. \'"},'
            '"annotations":{"summary":"bench \' .. k .. \'"}}\'')
WEBHOOK_ALERT = ('\'{"status":"firing","fingerprint":"\' .. k .. \'","labels":{"alertname":'
                 '"bench","key":"\' .. k .. \'"},"annotations":{"summary":"bench \' .. k .. \'"}'
                 ',"startsAt":"2026-01-05T12:00:00Z"}\'')


@dataclass
class Result:
    target: str
    database: str
    load: str
    events_per_request: int
    requests: int = 0
    seconds: float = 0.0
    non_2xx: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    rss_mb: float = 0.0
    cpu_pct: float = 0.0  # CPU time of the server process(es) over the run's wall time

    @property
    def events_per_s(self) -> float:
        ok = self.requests - self.non_2xx
        return ok * self.events_per_request / self.seconds if self.seconds else 0.0


@dataclass
class Triage:
    """The processing side: what the accept run left in the inbox and how fast a worker
    triages it (routing, dedup, grouping, incidents) — accept speed is not triage speed."""

    database: str
    load: str
    backlog_events: int = 0  # left in the inbox when the accept run ended
    processed_events: int = 0  # triaged by the worker within --drain-seconds
    left_events: int = 0
    seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.processed_events / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early ({proc.returncode})")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def family(pid: int) -> list[Path]:
    """/proc entries of a process and its children (uvicorn --workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if entry.name == str(pid) or parent == str(pid):
            found.append(entry)
    return found


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the server: the sum over its processes."""
    total = 0.0
    for entry in family(pid):
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server's processes."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in family(pid):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, script: str, result: Result, *, seconds: int, connections: int,
            workdir: Path, pid: int | None = None) -> None:
    path = workdir / f"load-{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    cpu_before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run([WRK or "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", "-s", str(path), url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if total is None:
        raise RuntimeError("wrk output not understood:\n" + out)
    result.requests = int(total.group(1))
    result.seconds = _ms(total.group(2) + total.group(3)) / 1000
    if pid and result.seconds:
        result.cpu_pct = (cpu_seconds(pid) - cpu_before) / result.seconds * 100
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result.non_2xx = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    result.errors = sum(int(g) for g in errors.groups()) if errors else 0
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        found = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        if found:
            setattr(result, attr, _ms(found.group(1)))


def batch_script(path: str, alert: str, body: str, size: int) -> str:
    return (LUA_BATCH.replace("BATCH", str(size)).replace("ALERT", alert)
            .replace("BODY", body).replace("PATH", path))


def prepare_tocsin(database_url: str, data_dir: Path, grouping: str = "per_alert",
                   open_alerts: int = 0) -> tuple[str, str]:
    """Migrate and create a service with a PagerDuty and an Alertmanager integration."""
    sys.path.insert(0, str(ROOT / "src"))
    from sqlalchemy import insert, select

    from tocsin.alerts import manage
    from tocsin.alerts.models import Alert, Integration, IntegrationKind
    from tocsin.alerts.schemas import IntegrationCreate, TriageSettingsIn
    from tocsin.catalog import service as catalog
    from tocsin.catalog.schemas import ServiceCreate
    from tocsin.clock import SystemClock
    from tocsin.db import migrate
    from tocsin.settings import load_settings
    from tocsin.wiring import build_runtime

    runtime = build_runtime(load_settings(env="dev", data_dir=data_dir,
                                          database_url=database_url), SystemClock())
    migrate.upgrade(runtime.engine)
    now = runtime.clock.now()
    with runtime.sessions() as session, session.begin():
        service = catalog.create_service(session, data=ServiceCreate(name="bench"), now=now)
        manage.set_triage_settings(session, service_id=service.id,
                                   data=TriageSettingsIn(grouping=grouping))
        keys = [manage.create_integration(session, now=now, data=IntegrationCreate(
            service_id=service.id, kind=kind, name=kind.value)).key
            for kind in (IntegrationKind.PAGERDUTY, IntegrationKind.ALERTMANAGER)]
        integration_id = session.scalars(select(Integration.id)).first()
        # Open alerts already in the table (memory must not grow with them; lookups stay
        # indexed). Core inserts: 100,000 ORM objects would take minutes.
        rows: list[dict[str, object]] = [{"scope": f"i:{integration_id}", "dedup_key": f"open-{i}",
                 "integration_id": integration_id, "service_id": service.id,
                 "status": "firing", "summary": f"open alert {i}", "source": "preload",
                 "severity": "SEV4", "labels": {}, "details": {}, "links": [], "tags": [],
                 "occurrences": 1, "resolve_count": 0, "acknowledged": False,
                 "first_seen_at": now, "last_seen_at": now} for i in range(open_alerts)]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Alert), rows[start:start + 10_000])
    runtime.close()
    return keys[0], keys[1]


def start_tocsin(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # The interpreter running this script, on this tree's code (src/ on PYTHONPATH): the
    # same command runs a side-by-side copy of another commit.
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                             env.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "tocsin", *command], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def backlog_rows(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM intake_inbox WHERE status = 'pending'")).scalar_one())
    finally:
        engine.dispose()


def measure_triage(database_url: str, env: dict[str, str], triage: Triage,
                   events_per_row: int, seconds: float) -> None:
    """Start `tocsin worker` on what the accept runs left and time its progress."""
    before = backlog_rows(database_url)
    triage.backlog_events = before * events_per_row
    if before == 0:
        return
    proc = start_tocsin(["worker"], env)
    try:
        began = time.perf_counter()
        left = before
        while time.perf_counter() - began < seconds and left and proc.poll() is None:
            time.sleep(0.25)
            left = backlog_rows(database_url)
        triage.seconds = time.perf_counter() - began
    finally:
        stop(proc)
    triage.left_events = left * events_per_row
    triage.processed_events = (before - left) * events_per_row


def bench_tocsin(database: str, database_url: str, args: argparse.Namespace,
                 workdir: Path) -> tuple[list[Result], list[Triage]]:
    results: list[Result] = []
    triages: list[Triage] = []
    for load in ("pd", "webhook"):
        data_dir = workdir / f"tocsin-{database}-{load}"
        url = database_url if database == "postgresql" else f"sqlite:///{data_dir}/tocsin.db"
        if database == "postgresql":
            url = create_pg(database_url)
        try:
            pd_key, am_key = prepare_tocsin(url, data_dir, args.grouping, args.open_alerts)
            port = free_port()
            env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(data_dir),
                   "TOCSIN_DATABASE_URL": url, "TOCSIN_LOG_LEVEL": "WARNING",
                   "TOCSIN_INTAKE_SQLITE_SYNCHRONOUS": args.sqlite_synchronous}
            # `tocsin api`: accepting alone; triage is measured afterwards with `tocsin
            # worker` on the backlog the accept runs left (below).
            command = ["serve" if args.with_worker else "api", "--host", "127.0.0.1",
                       "--port", str(port)]
            if args.api_workers > 1 and not args.with_worker:
                command += ["--workers", str(args.api_workers)]
            proc = start_tocsin(command, env)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_ready(f"{base}/api/v1/health", proc)
                if load == "pd":
                    result = Result("Tocsin /v2/enqueue", database, "1 event/POST", 1)
                    run_wrk(base, LUA_PD.replace("KEY", pd_key), result, seconds=args.seconds,
                            connections=args.connections, workdir=workdir, pid=proc.pid)
                    result.rss_mb = peak_rss_mb(proc.pid)
                    results.append(result)
                    # The latency goal is stated at half the peak rate: an open-loop,
                    # constant-rate run (wrk cannot hold a rate).
                    time.sleep(1)
                    rate = max(result.events_per_s / 2, 1.0)
                    half = Result("Tocsin /v2/enqueue", database, f"@{rate:.0f}/s fixed", 1)
                    cpu_before = cpu_seconds(proc.pid)
                    run_fixed_rate(base, pd_key, rate, args.seconds, half)
                    half.cpu_pct = (cpu_seconds(proc.pid) - cpu_before) / half.seconds * 100
                    result = half
                else:
                    result = Result("Tocsin Alertmanager webhook", database,
                                    f"{args.batch} alerts/POST", args.batch)
                    body = ('\'{"version":"4","status":"firing","groupKey":"g","alerts":[\' '
                            '.. table.concat(items, ",") .. \']}\'')
                    run_wrk(base, batch_script(f"/api/v1/intake/alertmanager/{am_key}",
                                               WEBHOOK_ALERT, body, args.batch), result,
                            seconds=args.seconds, connections=args.batch_connections,
                            workdir=workdir, pid=proc.pid)
                result.rss_mb = peak_rss_mb(proc.pid)
                results.append(result)
            finally:
                stop(proc)
            triage = Triage(database, "1 event/POST" if load == "pd"
                            else f"{args.batch} alerts/POST")
            if not args.with_worker:
                measure_triage(url, env, triage, 1 if load == "pd" else args.batch,
                               args.drain_seconds)
            triages.append(triage)
        finally:
            if database == "postgresql":
                drop_pg(url)
    return results, triages


class FixedRate:
    """Open-loop load: PagerDuty events sent at a fixed rate over keep-alive connections,
    whatever the answers' speed. Latency counts from each request's scheduled time, so a
    slow server cannot hide queueing (no coordinated omission). Raw HTTP/1.1 on asyncio:
    an HTTP client library costs more CPU per request than the server being measured."""

    def __init__(self, port: int, key: str, rate: float, seconds: int) -> None:
        self.port, self.key, self.rate = port, key, rate
        self.total = int(rate * seconds)
        self.latencies: list[float] = []
        self.failures = 0
        self.queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()

    def request(self, i: int) -> bytes:
        import random

        k = (f"rep-{random.randint(1, 200)}" if random.random() < 0.3 else f"fixed-{i}")
        body = json.dumps({"routing_key": self.key, "event_action": "trigger", "dedup_key": k,
                           "payload": {"summary": f"bench {k}", "source": "bench",
                                       "severity": "info"}}).encode()
        return (b"POST /v2/enqueue HTTP/1.1\r\nHost: bench\r\nContent-Type: "
                b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body

    async def connection(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while True:
                i, scheduled = await self.queue.get()
                if i < 0:
                    return
                writer.write(self.request(i))
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 202"):
                    self.failures += 1
                self.latencies.append((time.perf_counter() - scheduled) * 1000)
        finally:
            writer.close()

    async def run(self, connections: int = 64) -> float:
        workers = [asyncio.create_task(self.connection()) for _ in range(connections)]
        began = time.perf_counter()
        for i in range(self.total):
            scheduled = began + i / self.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.queue.put_nowait((i, scheduled))
        for _ in workers:
            self.queue.put_nowait((-1, 0.0))
        await asyncio.gather(*workers)
        return time.perf_counter() - began


def run_fixed_rate(base: str, key: str, rate: float, seconds: int, result: Result) -> None:
    load = FixedRate(int(base.rsplit(":", 1)[1]), key, rate, seconds)
    result.seconds = asyncio.run(load.run())
    result.requests, result.non_2xx = load.total, load.failures
    result.errors = load.total - len(load.latencies)
    latencies = sorted(load.latencies)
    if latencies:
        result.p50_ms = latencies[len(latencies) // 2]
        result.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def create_pg(server: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_pg(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def bench_alertmanager(args: argparse.Namespace, workdir: Path) -> list[Result]:
    results = []
    for size in (1, args.batch):
        conf = workdir / "am.yml"
        conf.write_text("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
        port = free_port()
        proc = subprocess.Popen([AM or "alertmanager", f"--config.file={conf}",
                                 f"--storage.path={workdir / f'am-{size}'}",
                                 f"--web.listen-address=127.0.0.1:{port}",
                                 "--cluster.listen-address="],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/-/ready", proc)
            result = Result("Alertmanager /api/v2/alerts", "memory",
                            "1 alert/POST" if size == 1 else f"{size} alerts/POST", size)
            body = "'[' .. table.concat(items, \",\") .. ']'"
            run_wrk(base, batch_script("/api/v2/alerts", AM_ALERT, body, size), result,
                    seconds=args.seconds, workdir=workdir,
                    connections=args.connections if size == 1 else args.batch_connections)
            result.rss_mb = peak_rss_mb(proc.pid)
            results.append(result)
        finally:
            stop(proc)
    return results


def pg_reachable() -> bool:
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batch-connections", type=int, default=2,
                        help="connections for the batch runs (a 100-alert POST is long)")
    parser.add_argument("--with-worker", action="store_true",
                        help="run `tocsin serve` (API + worker) instead of `tocsin api`")
    parser.add_argument("--open-alerts", type=int, default=0,
                        help="open alerts to preload before each Tocsin run (e.g. 100000)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--api-workers", type=int, default=1,
                        help="API processes (`tocsin api --workers N`)")
    parser.add_argument("--sqlite-synchronous", choices=["normal", "full"], default="normal",
                        help="TOCSIN_INTAKE_SQLITE_SYNCHRONOUS for the SQLite runs")
    parser.add_argument("--drain-seconds", type=float, default=10.0,
                        help="how long `tocsin worker` may triage each run's backlog")
    parser.add_argument("--grouping", choices=["per_alert", "service"], default="per_alert",
                        help="the bench service's grouping: per_alert makes an incident per "
                        "new alert; service groups a flood into one incident")
    args = parser.parse_args()
    if WRK is None or AM is None:
        sys.exit("needs wrk and prometheus-alertmanager: apt-get install -y wrk "
                 "prometheus-alertmanager (see .ci/install-system-deps)")
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        workdir = Path(tmp)
        results = bench_alertmanager(args, workdir)
        found, triages = bench_tocsin("sqlite", "", args, workdir)
        results += found
        if not args.no_postgres and pg_reachable():
            found, more = bench_tocsin("postgresql", PG_SERVER, args, workdir)
            results += found
            triages += more
    print_table(results, args)
    print_triage(triages, args)


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    am = {r.events_per_request: r.events_per_s for r in results if r.database == "memory"}
    print(f"\nintake benchmark: wrk -t1 -c{args.connections} (batches: "
          f"-c{args.batch_connections}) -d{args.seconds}s, "
          f"{os.cpu_count()} CPUs, 30% repeated dedup keys, grouping {args.grouping}, "
          f"{args.open_alerts} preloaded open alerts, {args.api_workers} API process(es), "
          f"SQLite synchronous={args.sqlite_synchronous}\n")
    head = (f"{'target':<28} {'store':<10} {'load':<16} {'events/s':>9} {'req/s':>8} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>7} {'errors':>6} {'RSS MB':>7} "
            f"{'CPU %':>6} {'vs AM':>6}")
    print(head)
    print("-" * len(head))
    for r in results:
        ratio = r.events_per_s / am[r.events_per_request] if am.get(r.events_per_request) else 0
        print(f"{r.target:<28} {r.database:<10} {r.load:<16} {r.events_per_s:>9.0f} "
              f"{r.requests / r.seconds if r.seconds else 0:>8.0f} {r.p50_ms:>7.1f} "
              f"{r.p99_ms:>7.1f} {r.non_2xx:>7} {r.errors:>6} {r.rss_mb:>7.0f} "
              f"{r.cpu_pct:>6.0f} {ratio:>6.2f}")


def print_triage(triages: list[Triage], args: argparse.Namespace) -> None:
    if not triages or args.with_worker:
        return
    print(f"\ntriage (processing side): `tocsin worker` on the inbox each accept run left, "
          f"for at most {args.drain_seconds:.0f} s\n")
    head = (f"{'store':<10} {'load':<16} {'backlog ev':>10} {'triaged ev/s':>12} "
            f"{'left ev':>8}")
    print(head)
    print("-" * len(head))
    for t in triages:
        print(f"{t.database:<10} {t.load:<16} {t.backlog_events:>10} {t.events_per_s:>12.0f} "
              f"{t.left_events:>8}")


if __name__ == "__main__":
    main()
