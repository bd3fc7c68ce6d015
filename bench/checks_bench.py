"""Detection benchmark: one command, prints a table.

    .venv/bin/python bench/checks_bench.py            # SQLite in a temp dir
    .venv/bin/python bench/checks_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Measures, each for a few seconds:
  1. plain HTTP checks/s sustained by the real runner (claim by next_due_at, aiohttp, batched
     result writes, confirmation) against a local keep-alive HTTP server in another process,
     with schedule lateness p50/p99, the CPU the runner's process used, and checks per
     CPU-second of it (the figure that survives a busy machine);
  2. the same with TLS checks (a fresh TCP connection and TLS handshake per check);
     both again through `--processes` runner processes (default 2) at 3,000 HTTP and 1,600
     TLS checks/s offered, with the children's CPU;
  3. heartbeat pings/s over HTTP (uvicorn in a child process, as `tocsin serve` runs it, with
     the ping lane and without it; each ping committed before the answer), with the server
     process's CPU and pings per CPU-second of it; and the ping writer's database work alone
     (batches of 32 through `record_pings`, in process: CPU per ping);
  4. the check list API with 10,000 checks (first page of 100, one page of 1,000, all 10,000
     through cursors).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import delete, func, insert, select, text

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import UserCreate
from tocsin.app import create_app, create_served_app
from tocsin.catalog.models import Service
from tocsin.checks.models import Check, CheckLocationState, CheckResult
from tocsin.checks.processes import RunnerProcesses
from tocsin.checks.runner import CheckRunner, loop_factory
from tocsin.checks.service import next_due_time
from tocsin.db import migrate
from tocsin.heartbeats.models import Heartbeat, PingKind
from tocsin.heartbeats.recording import PingIn, record_pings
from tocsin.principal import Role
from tocsin.runtime import Runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            b"Connection: keep-alive\r\n\r\nok")


# ---- target servers (run in a child process: `--serve http|tls PORT [CERT KEY]`) ----------

async def _serve(kind: str, port: int, cert: str | None, key: str | None) -> None:
    ctx = None
    if kind == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert or "", key or "")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.readuntil(b"\r\n\r\n")
                if not data:
                    break
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=ctx, backlog=4096)
    async with server:
        await server.serve_forever()


def spawn_target(kind: str, cert: str | None = None, key: str | None = None
                 ) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    args = [sys.executable, __file__, "--serve", kind, str(port)]
    if cert and key:
        args += [cert, key]
    proc = subprocess.Popen(args)
    _wait_for_port(port, proc)
    return proc, port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socketlib.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


import socket as socketlib  # noqa: E402 - used by the helpers above and below


def _free_port() -> int:
    with socketlib.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_cert(tmp: Path) -> tuple[str, str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tmp.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp / "c.pem").write_bytes(pem)
    (tmp / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return str(tmp / "c.pem"), str(tmp / "k.pem"), pem.decode()


# ---- helpers --------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fresh_runtime(url: str | None, tmp: Path) -> Runtime:
    settings = load_settings(env="dev", data_dir=tmp / "data", database_url=url,
                             check_concurrency=int(os.environ.get("BENCH_CONCURRENCY", "100")))
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    with runtime.sessions() as s, s.begin():
        for table in (CheckResult, CheckLocationState, Check, Heartbeat, Service):
            s.execute(delete(table))
    return runtime


def add_checks(runtime: Runtime, n: int, *, kind: str, config: dict[str, Any],
               interval: int, spread: bool = True) -> None:
    now = runtime.clock.now()
    with runtime.sessions() as s, s.begin():
        service = Service(name=f"bench-{uuid.uuid4().hex[:6]}", created_at=now)
        s.add(service)
        s.flush()
        rows = [{"name": f"{kind}-{uuid.uuid4().hex}", "kind": kind, "service_id": service.id,
                 "interval_seconds": interval, "timeout_seconds": 5.0, "config": config,
                 "locations": ["server"], "on_server": True, "confirm_failures": 1,
                 "enabled": True, "status": "up", "created_at": now,
                 "next_due_at": now + timedelta(seconds=random.uniform(0, interval)
                                                if spread else 0)} for _ in range(n)]
        for i in range(0, n, 5000):
            s.execute(insert(Check), rows[i:i + 5000])


def run_checks(runtime: Runtime, seconds: float) -> dict[str, float]:
    # Checks that fell due while the benchmark was still inserting rows are a set-up backlog,
    # not schedule lateness: the runner starts them first (oldest due first), so the first
    # `overdue` lateness samples are theirs and are left out of p50/p99.
    with runtime.sessions() as s:
        overdue = s.scalar(select(func.count()).select_from(Check).where(
            Check.next_due_at <= runtime.clock.now())) or 0
    runner = CheckRunner(runtime, lease_seconds=seconds + 60)
    cpu0, wall0 = time.process_time(), time.monotonic()
    runner.start()
    time.sleep(seconds)
    done = runner.stats.finished
    cpu1, wall1 = time.process_time(), time.monotonic()
    runner.stop()
    lateness = list(runner.stats.lateness)[overdue:]
    wall = wall1 - wall0
    return {"checks": done, "rate": done / wall, "failed": runner.stats.failed,
            "overdue": overdue, "p50": pct(lateness, 0.5), "p99": pct(lateness, 0.99),
            "cpu": (cpu1 - cpu0) / wall, "per_cpu": done / (cpu1 - cpu0)}


CAUGHT_UP = timedelta(seconds=0.5)
WARM_UP = 30.0


def run_checks_in_processes(runtime: Runtime, seconds: float, count: int) -> dict[str, float]:
    """The same through `count` runner processes (checks/processes.py, as a worker with
    `check_runner_processes` runs them). The clock starts once the children have caught up
    with the set-up backlog (rows inserted, children spawned: no check more than
    `CAUGHT_UP` overdue) or after `WARM_UP` if they never do; CPU is the children's (the
    parent only supervises)."""
    with runtime.sessions() as s:
        overdue = s.scalar(select(func.count()).select_from(Check).where(
            Check.next_due_at <= runtime.clock.now())) or 0
    procs = RunnerProcesses(runtime.settings, count, build=build_runtime,
                            lease_seconds=seconds + 120)
    procs.ensure()

    def behind() -> bool:
        with runtime.read_sessions() as s:
            oldest = next_due_time(s)
        return oldest is not None and oldest < runtime.clock.now() - CAUGHT_UP

    def snapshot() -> tuple[int, int, float, float]:
        procs.ensure()  # each child answers a renewal with its counters
        time.sleep(0.3)
        stats = procs.stats()
        return (stats.finished, stats.failed, sum(_cpu_seconds(p) for p in procs.pids),
                time.monotonic())

    try:
        warm0 = time.monotonic()
        while (procs.stats().started < max(overdue, 1) or behind()) and (
                time.monotonic() - warm0 < WARM_UP):
            snapshot()
        warm_up = time.monotonic() - warm0
        procs.clear_lateness()
        done0, failed0, cpu0, wall0 = snapshot()
        while time.monotonic() - wall0 < seconds:
            time.sleep(1)
            procs.ensure()
        done1, failed1, cpu1, wall1 = snapshot()
        lateness = list(procs.stats().lateness)
    finally:
        procs.stop()
    done, wall, cpu = done1 - done0, wall1 - wall0, cpu1 - cpu0
    return {"checks": done, "rate": done / wall, "failed": failed1 - failed0,
            "overdue": overdue, "warm_up": warm_up, "p50": pct(lateness, 0.5), "p99": pct(lateness, 0.99),
            "cpu": cpu / wall, "per_cpu": done / cpu}


def measure(runtime: Runtime, seconds: float, processes: int) -> dict[str, float]:
    if processes > 1:
        return run_checks_in_processes(runtime, seconds, processes)
    return run_checks(runtime, seconds)


# ---- the benchmarks -----------------------------------------------------------------------------

def bench_http(url: str | None, tmp: Path, n: int, seconds: float,
               processes: int = 1) -> dict[str, float]:
    proc, port = spawn_target("http")
    try:
        runtime = fresh_runtime(url, tmp)
        add_checks(runtime, n, kind="http", interval=10,
                   config={"url": f"http://127.0.0.1:{port}/", "method": "GET",
                           "headers": {}, "expected_status": [], "follow_redirects": True,
                           "verify_tls": True, "fresh_connection": False})
        out = measure(runtime, seconds, processes)
        runtime.close()
        return out
    finally:
        proc.terminate()
        proc.wait()


def bench_tls(url: str | None, tmp: Path, n: int, seconds: float,
              processes: int = 1) -> dict[str, float]:
    cert, key, pem = make_cert(tmp)
    proc, port = spawn_target("tls", cert, key)
    try:
        runtime = fresh_runtime(url, tmp)
        add_checks(runtime, n, kind="tls", interval=10,
                   config={"host": "127.0.0.1", "port": port, "server_name": "localhost",
                           "min_days_valid": 14, "check_hostname": True, "ca_pem": pem})
        out = measure(runtime, seconds, processes)
        runtime.close()
        return out
    finally:
        proc.terminate()
        proc.wait()


def _serve_pings(url: str | None, data_dir: str, port: int, lane: bool) -> None:
    """Child process: the API as `tocsin serve` runs it (ping lane in front unless `lane` is
    off), so its CPU is measured apart from the load generator's."""
    settings = load_settings(env="dev", data_dir=Path(data_dir), database_url=url)
    runtime = build_runtime(settings)
    served = create_served_app(runtime) if lane else create_app(runtime)
    uvicorn.run(served, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def add_heartbeats(runtime: Runtime, n: int = 100) -> list[str]:
    """`n` new heartbeats (60 s period) in a fresh service; their ping keys."""
    now = runtime.clock.now()
    keys = [str(uuid.uuid4()) for _ in range(n)]
    with runtime.sessions() as s, s.begin():
        service = Service(name="bench-pings", created_at=now)
        s.add(service)
        s.flush()
        for i, k in enumerate(keys):
            s.add(Heartbeat(key=k, name=f"hb{i}", service_id=service.id, period_seconds=60,
                            grace_seconds=60, status="new", created_at=now))
    return keys


def bench_ping_writer(url: str | None, tmp: Path, seconds: float,
                      batch: int = 32) -> dict[str, float]:
    """The ping writer's database work alone, in this process: batches of success pings on
    random heartbeats through `record_pings`, each batch committed (no HTTP, no threads).
    CPU per ping of the best one-second window, the figure least disturbed by a busy machine."""
    runtime = fresh_runtime(url, tmp)
    keys = add_heartbeats(runtime)
    best, sent, wall0 = float("inf"), 0, time.monotonic()
    while time.monotonic() - wall0 < seconds:
        done, cpu0, window0 = 0, time.thread_time(), time.monotonic()
        while time.monotonic() - window0 < 1:
            pings = [PingIn(random.choice(keys), PingKind.SUCCESS, None, b"exit 0",
                            "127.0.0.1") for _ in range(batch)]
            with runtime.sessions() as s, s.begin():
                record_pings(s, pings, now=runtime.clock.now(), settings=runtime.settings)
            done += batch
        best, sent = min(best, (time.thread_time() - cpu0) / done), sent + done
    runtime.close()
    return {"sent": sent, "batch": batch, "per_ping": best, "per_cpu": 1 / best}


def bench_pings(url: str | None, tmp: Path, seconds: float, *, lane: bool = True,
                concurrency: int = 32) -> dict[str, float]:
    runtime = fresh_runtime(url, tmp)
    keys = add_heartbeats(runtime)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-pings", url or "",
                             str(tmp / "data"), str(port), "lane" if lane else "routes"])
    latencies: list[float] = []

    async def client_loop(stop_at: float) -> int:
        # A raw keep-alive HTTP/1.1 client: the load generator shares the CPU with the
        # server, and httpx would cost more than the request it measures.
        sent = 0
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            writer.write(f"POST /ping/{random.choice(keys)} HTTP/1.1\r\nHost: b\r\n"
                         "Content-Length: 6\r\n\r\nexit 0".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t)
            assert head.startswith(b"HTTP/1.1 200"), head
            sent += 1
        writer.close()
        return sent

    async def drive() -> int:
        stop_at = time.monotonic() + seconds
        return sum(await asyncio.gather(*(client_loop(stop_at) for _ in range(concurrency))))

    try:
        _wait_for_port(port, proc)
        cpu0, wall0 = _cpu_seconds(proc.pid), time.monotonic()
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            sent = runner.run(drive())
        wall, cpu = time.monotonic() - wall0, _cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait()
    with runtime.sessions() as s:
        stored = s.execute(text("SELECT count(*) FROM heartbeat_pings")).scalar_one()
    runtime.close()
    return {"sent": sent, "stored": stored, "rate": sent / wall, "cpu": cpu / wall,
            "per_cpu": sent / cpu if cpu else float("nan"),
            "p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99)}


def bench_list(url: str | None, tmp: Path, n: int = 10_000) -> dict[str, float]:
    runtime = fresh_runtime(url, tmp)
    add_checks(runtime, n, kind="http", interval=60,
               config={"url": "https://example.com/", "method": "GET"})
    with runtime.sessions() as s, s.begin():
        user = accounts.create_user(s, data=UserCreate(
            name="b", email=f"b-{uuid.uuid4().hex[:8]}@example.com", role=Role.VIEWER, time_zone="UTC",
            password="correct horse battery"), now=runtime.clock.now())
        _key, token = accounts.create_api_key(s, owner=user, name="b", scope=None,
                                              now=runtime.clock.now())
    from fastapi.testclient import TestClient

    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, float] = {}
    with TestClient(create_app(runtime)) as client:
        client.get("/api/v1/checks?limit=10", headers=headers)  # warm up
        for label, limit in (("page100", 100), ("page1000", 1000)):
            times = []
            for _ in range(5):
                t = time.perf_counter()
                r = client.get(f"/api/v1/checks?limit={limit}", headers=headers)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200 and len(r.json()["items"]) == limit
            out[label] = statistics.median(times)
        t = time.perf_counter()
        cursor, total = None, 0
        while True:
            params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/checks", params=params, headers=headers).json()
            total += len(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        out["all"] = time.perf_counter() - t
        assert total == n
    runtime.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--http-checks", type=int, default=30_000,
                        help="checks at a 10 s interval (30,000 = 3,000/s offered)")
    parser.add_argument("--tls-checks", type=int, default=8_000,
                        help="TLS checks at a 10 s interval (8,000 = 800/s offered)")
    parser.add_argument("--processes", type=int, default=2,
                        help="runner processes for the multi-process rows (1: skip them)")
    parser.add_argument("--only", default="http,tls,http-procs,tls-procs,pings,list",
                        help="comma-separated subset of http,tls,http-procs,tls-procs,pings,list")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--serve-pings", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        kind, port, *files = args.serve
        asyncio.run(_serve(kind, int(port), *(files or [None, None])))
        return
    if args.serve_pings:
        url, data_dir, port, mode = args.serve_pings
        _serve_pings(url or None, data_dir, int(port), mode == "lane")
        return
    db = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    print(f"cores: {os.cpu_count()}  database: {db}  seconds per run: {args.seconds:g}  "
          f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        only = set(args.only.split(","))
        # The half-rate HTTP run shows lateness below capacity on a machine where the full
        # offered rate may be more than the runner gets (a busy or shared machine).
        many = f"{args.processes} runner processes"
        runs = (("http", args.http_checks, "HTTP checks (keep-alive)", 1),
                ("http", args.http_checks // 2, "HTTP checks (keep-alive), half rate", 1),
                ("tls", args.tls_checks, "TLS checks (fresh handshake)", 1),
                ("http", args.http_checks, f"HTTP checks (keep-alive), {many}",
                 args.processes),
                ("tls", args.tls_checks * 2, f"TLS checks (fresh handshake), {many}",
                 args.processes))
        for i, (kind, n, label, processes) in enumerate(runs):
            key = kind if processes == 1 else f"{kind}-procs"
            if key in only and (processes == 1 or args.processes > 1):
                bench = bench_http if kind == "http" else bench_tls
                r = bench(args.database_url, Path(tmp) / f"{kind}{i}", n, args.seconds,
                          processes)
                rows.append((label, f"{r['rate']:.0f}/s",
                             f"offered {n / 10:.0f}/s, failed {r['failed']:.0f}, "
                             f"overdue at start {r['overdue']:.0f}"
                             + (f", warm-up {r['warm_up']:.1f} s" if "warm_up" in r else ""),
                             f"{r['p50']:.3f} / {r['p99']:.3f}", f"{r['cpu']:.2f}",
                             f"{r['per_cpu']:.0f}"))
        if "pings" in only:
            for lane, label in ((True, "heartbeat pings (ping lane, durable)"),
                                (False, "heartbeat pings (FastAPI routes, durable)")):
                p = bench_pings(args.database_url, Path(tmp) / f"p{lane:d}",
                                min(args.seconds, 8), lane=lane)
                rows.append((label, f"{p['rate']:.0f}/s",
                             f"sent {p['sent']:.0f}, stored {p['stored']:.0f}",
                             f"resp {p['p50'] * 1000:.1f} / {p['p99'] * 1000:.1f} ms",
                             f"{p['cpu']:.2f}", f"{p['per_cpu']:.0f}"))
            pw = bench_ping_writer(args.database_url, Path(tmp) / "pw", min(args.seconds, 5))
            rows.append(("ping writer alone (record_pings, in process)", "-",
                         f"{pw['batch']:.0f} a batch, {pw['per_ping'] * 1e6:.0f} us CPU a ping "
                         f"(best 1 s of {pw['sent']:.0f} pings)", "-", "1.00",
                         f"{pw['per_cpu']:.0f}"))
        if "list" in only:
            lst = bench_list(args.database_url, Path(tmp) / "l")
            rows.append(("check list API, 10,000 checks", f"{lst['page100'] * 1000:.0f} ms",
                         f"limit=1000: {lst['page1000'] * 1000:.0f} ms; all 10k: "
                         f"{lst['all'] * 1000:.0f} ms", "-", "-", "-"))
    header = ("benchmark", "throughput", "detail", "lateness p50 / p99 s", "CPU (cores)",
              "per CPU-second")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
