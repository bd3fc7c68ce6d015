"""Intake benchmark: Tocsin's PagerDuty endpoint and Alertmanager webhook on SQLite and
PostgreSQL, side by side with Prometheus Alertmanager's own /api/v2/alerts, all driven by
the same load generator (wrk), each run bounded in time. Prints one table.

    .venv/bin/python bench/intake.py [--seconds 5] [--connections 16] [--no-postgres]

Every Tocsin 2xx here is durable: the event (alert, alert event, incident when new) is
committed before the answer. Alertmanager keeps alerts in memory only.
"""

from __future__ import annotations

import argparse
import asyncio
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

    @property
    def events_per_s(self) -> float:
        ok = self.requests - self.non_2xx
        return ok * self.events_per_request / self.seconds if self.seconds else 0.0


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


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, script: str, result: Result, *, seconds: int, connections: int,
            workdir: Path) -> None:
    path = workdir / f"load-{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    out = subprocess.run([WRK or "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", "-s", str(path), url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if total is None:
        raise RuntimeError("wrk output not understood:\n" + out)
    result.requests = int(total.group(1))
    result.seconds = _ms(total.group(2) + total.group(3)) / 1000
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
    from tocsin.runtime import build_runtime
    from tocsin.settings import load_settings

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
        rows = [{"scope": f"i:{integration_id}", "dedup_key": f"open-{i}",
                 "integration_id": integration_id, "service_id": service.id,
                 "status": "firing", "summary": f"open alert {i}", "source": "preload",
                 "severity": "SEV4", "labels": {}, "details": {}, "links": [], "tags": [],
                 "occurrences": 1, "resolve_count": 0, "acknowledged": False,
                 "first_seen_at": now, "last_seen_at": now} for i in range(open_alerts)]
        for start in range(0, len(rows), 10_000):
            session.execute(insert(Alert), rows[start:start + 10_000])
    runtime.close()
    return keys[0], keys[1]


def bench_tocsin(database: str, database_url: str, args: argparse.Namespace,
                 workdir: Path) -> list[Result]:
    results = []
    for load in ("pd", "webhook"):
        data_dir = workdir / f"tocsin-{database}-{load}"
        url = database_url if database == "postgresql" else f"sqlite:///{data_dir}/tocsin.db"
        if database == "postgresql":
            url = create_pg(database_url)
        try:
            pd_key, am_key = prepare_tocsin(url, data_dir, args.grouping, args.open_alerts)
            port = free_port()
            env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(data_dir),
                   "TOCSIN_DATABASE_URL": url, "TOCSIN_LOG_LEVEL": "WARNING"}
            # `tocsin api`: intake alone; the worker (escalation, notifications) would be a
            # separate process in production and is not what this measures.
            command = "serve" if args.with_worker else "api"
            proc = subprocess.Popen([str(ROOT / ".venv/bin/tocsin"), command, "--host",
                                     "127.0.0.1", "--port", str(port)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_ready(f"{base}/api/v1/health", proc)
                if load == "pd":
                    result = Result("Tocsin /v2/enqueue", database, "1 event/POST", 1)
                    run_wrk(base, LUA_PD.replace("KEY", pd_key), result, seconds=args.seconds,
                            connections=args.connections, workdir=workdir)
                    result.rss_mb = peak_rss_mb(proc.pid)
                    results.append(result)
                    # The latency goal is stated at half the peak rate: an open-loop,
                    # constant-rate run (wrk cannot hold a rate).
                    time.sleep(1)  # let the queued requests of the wrk run drain
                    rate = max(result.events_per_s / 2, 1.0)
                    half = Result("Tocsin /v2/enqueue", database, f"@{rate:.0f}/s fixed", 1)
                    asyncio.run(constant_rate(base, pd_key, rate, args.seconds, half))
                    result = half
                else:
                    result = Result("Tocsin Alertmanager webhook", database,
                                    f"{args.batch} alerts/POST", args.batch)
                    body = ('\'{"version":"4","status":"firing","groupKey":"g","alerts":[\' '
                            '.. table.concat(items, ",") .. \']}\'')
                    run_wrk(base, batch_script(f"/api/v1/intake/alertmanager/{am_key}",
                                               WEBHOOK_ALERT, body, args.batch), result,
                            seconds=args.seconds, connections=args.batch_connections,
                            workdir=workdir)
                result.rss_mb = peak_rss_mb(proc.pid)
                results.append(result)
            finally:
                stop(proc)
        finally:
            if database == "postgresql":
                drop_pg(url)
    return results


async def constant_rate(base: str, key: str, rate: float, seconds: int,
                        result: Result) -> None:
    """Send single PagerDuty events at a fixed rate (30% repeated keys), whatever the
    answers' speed, and record each answer's latency."""
    import random

    latencies: list[float] = []
    failures = 0

    async def one(client: httpx.AsyncClient, i: int) -> None:
        nonlocal failures
        k = (f"rep-{random.randint(1, 200)}" if random.random() < 0.3
             else f"fixed-{i}-{uuid.uuid4().hex}")
        body = {"routing_key": key, "event_action": "trigger", "dedup_key": k,
                "payload": {"summary": f"bench {k}", "source": "bench", "severity": "info"}}
        started = time.perf_counter()
        try:
            r = await client.post(f"{base}/v2/enqueue", json=body)
            if r.status_code != 202:
                failures += 1
        except httpx.HTTPError:
            failures += 1
            return
        latencies.append((time.perf_counter() - started) * 1000)

    total = int(rate * seconds)
    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=256)) as c:
        tasks = []
        for i in range(total):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(c, i)))
        await asyncio.gather(*tasks)
    result.requests, result.non_2xx = total, failures
    result.seconds = time.perf_counter() - began
    latencies.sort()
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
        results += bench_tocsin("sqlite", "", args, workdir)
        if not args.no_postgres and pg_reachable():
            results += bench_tocsin("postgresql", PG_SERVER, args, workdir)
    print_table(results, args)


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    am = {r.events_per_request: r.events_per_s for r in results if r.database == "memory"}
    print(f"\nintake benchmark: wrk -t1 -c{args.connections} (batches: "
          f"-c{args.batch_connections}) -d{args.seconds}s, "
          f"{os.cpu_count()} CPUs, 30% repeated dedup keys, grouping {args.grouping}, "
          f"{args.open_alerts} preloaded open alerts\n")
    head = (f"{'target':<28} {'store':<10} {'load':<16} {'events/s':>9} {'req/s':>8} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>7} {'errors':>6} {'RSS MB':>7} "
            f"{'vs AM':>6}")
    print(head)
    print("-" * len(head))
    for r in results:
        ratio = r.events_per_s / am[r.events_per_request] if am.get(r.events_per_request) else 0
        print(f"{r.target:<28} {r.database:<10} {r.load:<16} {r.events_per_s:>9.0f} "
              f"{r.requests / r.seconds if r.seconds else 0:>8.0f} {r.p50_ms:>7.1f} "
              f"{r.p99_ms:>7.1f} {r.non_2xx:>7} {r.errors:>6} {r.rss_mb:>7.0f} {ratio:>6.2f}")


if __name__ == "__main__":
    main()
