"""Status page benchmark: one command, prints three tables.

    .venv/bin/python bench/statuspage.py                    # full scale
    .venv/bin/python bench/statuspage.py --seconds 3 --updates 20 --subscribers 500   # quick

1. Throughput: the public page and `summary.json` served by `tocsin serve` (SQLite, one
   process answering from its copy of the rendered files, with their validators) on its main
   port and on its status listener (`TOCSIN_STATUSPAGE_PORT`), vs the same bytes exported by
   `tocsin statuspage export` and served by nginx (Debian nginx-light, one worker), the same
   `wrk` load on each in turn (1 thread, 32 connections). Goal: the app >= 50% of nginx.
   Also the server's CPU time per request (the API process; nginx's worker), which a busy
   machine changes much less than requests/s.
2. From "update published" (the API call) to the page and the Atom feed showing it, polled
   over HTTP: p50/p99 (goal p99 < 1 s).
3. N confirmed email subscribers notified of one update through a local SMTP server
   (aiosmtpd, in this process): `tocsin serve` (all its processes, one process group) is
   killed with SIGKILL when half have arrived, then started again; counts how many arrived,
   how many twice, how many sends the outbox flagged "possibly duplicated" and how many it
   recorded sent with "delivery unconfirmed", and the time to the last one (goal: 10,000
   within 60 s, none twice). `--kill-trials K` repeats it with a new update each time;
   `--only subscribers` runs this section alone; `--postgres` runs on a fresh PostgreSQL
   database (TOCSIN_TEST_POSTGRES_URL's server, default 127.0.0.1:5432) instead of SQLite:

    .venv/bin/python bench/statuspage.py --only subscribers --subscribers 10000 --kill-trials 3

Figures depend on the machine; run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from tests.conftest import LOOPBACK_ALLOWED as LOOPBACK  # noqa: E402
from tocsin.accounts import service as accounts  # noqa: E402
from tocsin.accounts.schemas import UserCreate  # noqa: E402
from tocsin.clock import SystemClock  # noqa: E402
from tocsin.db import migrate  # noqa: E402
from tocsin.notify.models import Message  # noqa: E402
from tocsin.principal import Role  # noqa: E402
from tocsin.settings import load_settings  # noqa: E402
from tocsin.statuspages.models import StatusPage, StatusSubscriber  # noqa: E402
from tocsin.wiring import build_runtime  # noqa: E402

SECRET = "bench-secret-" + "x" * 20
NOW = datetime.now(UTC)


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
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


class Server:
    """`tocsin serve` in its own process group (so SIGKILL reaches every process of it)."""

    def __init__(self, tmp: Path, url: str, **extra: str) -> None:
        self.port, self.status_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.status_base = f"http://127.0.0.1:{self.status_port}"
        self.env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp),
                    "TOCSIN_DATABASE_URL": url, "TOCSIN_SECRET_KEY": SECRET,
                    "TOCSIN_LOG_LEVEL": "WARNING", "TOCSIN_BASE_URL": self.base,
                    "TOCSIN_OUTBOUND_ALLOW": json.dumps(LOOPBACK),
                    "TOCSIN_STATUSPAGE_PORT": str(self.status_port), **extra}
        self.log = tmp / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", "serve", "--port", str(self.port)], env=self.env,
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
            start_new_session=True)
        wait_up(self.base + "/api/v1/health")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def seed(url: str, tmp: Path, components: int = 12) -> tuple[str, int]:
    """An admin's API token, and a page with grouped components (one in partial outage,
    with a public post) — the page id."""
    rt = build_runtime(load_settings(env="dev", data_dir=tmp, database_url=url,
                                     secret_key=SECRET), SystemClock())
    migrate.upgrade(rt.engine)
    with rt.sessions() as s, s.begin():
        admin = accounts.create_user(s, data=UserCreate(
            name="Bench", email="bench@example.com", role=Role.ADMIN), now=NOW)
        _key, token = accounts.create_api_key(s, owner=admin, name="bench", scope=None, now=NOW)
    rt.close()
    return token, components


def setup_page(base: str, token: str, components: int) -> int:
    h = {"Authorization": f"Bearer {token}"}
    c = httpx.Client(base_url=base, headers=h, timeout=30)
    page = c.post("/api/v1/statuspages", json={"slug": "acme", "name": "Acme"}).json()
    sids = []
    for i in range(components):
        sids.append(c.post("/api/v1/services", json={"name": f"svc-{i}"}).json()["id"])
        c.post(f"/api/v1/statuspages/{page['id']}/components",
               json={"name": f"Component {i}", "service_ids": [sids[-1]],
                     "group_name": f"Group {i // 4}"})
    inc = c.post("/api/v1/incidents", json={"title": "x", "severity": "SEV2",
                                             "service_ids": [sids[0]]}).json()
    r = c.post(f"/api/v1/statuspages/{page['id']}/posts", json={
        "title": "Elevated errors", "stage": "investigating", "body": "Looking into it.",
        "incident_id": inc["id"], "component_ids": [1]})
    r.raise_for_status()
    pid: int = page["id"]
    return pid


# ---- 1. throughput ---------------------------------------------------------------------------

def wrk(url: str, seconds: int) -> float:
    return wrk_measured(url, seconds, [])[0]


def wrk_measured(url: str, seconds: int, pids: list[int]) -> tuple[float, float]:
    """Requests/s, and the CPU time the processes `pids` spent per request (µs): the second
    says what serving costs the server whatever else the machine is doing."""
    cpu = _cpu_seconds(pids)
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{seconds}s", url], capture_output=True,
                         text=True, check=True).stdout
    cpu = _cpu_seconds(pids) - cpu
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw errors from {url}:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    per_request = 1e6 * cpu / int(done.group(1)) if done and pids else float("nan")
    return (float(rate.group(1)) if rate else float("nan")), per_request


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@contextmanager
def nginx(root: Path, tmp: Path) -> Iterator[tuple[str, list[int]]]:
    """nginx serving `root`: its URL and its worker's process id."""
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  types {{ application/atom+xml atom; application/rss+xml rss; }}
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fastcgi;
  uwsgi_temp_path {tmp}/nginx-uwsgi;
  scgi_temp_path {tmp}/nginx-scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    index index.html;
    etag on;
    add_header Cache-Control "public, max-age=30";
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"],
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url + "/")
        yield url, _children(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def throughput(server: Server, token: str, page_id: int, tmp: Path,
               seconds: int) -> list[list[Any]]:
    from tocsin.cli.client import Client
    from tocsin.statuspages.cli import export_once

    folder = tmp / "export"
    folder.mkdir()
    tmp.chmod(0o755)  # nginx's worker (www-data) must read the export
    export_once(Client(server.base, token), {"id": page_id, "slug": "acme"}, folder)
    rows = []
    assert server.proc is not None
    app = [server.proc.pid]  # the API process (split workers are children: not counted)
    with nginx(folder, tmp) as (static, workers):
        for name, app_path, static_path in (
                ("page (index.html)", "/status/acme/", "/"),
                ("summary.json", "/status/acme/api/v2/summary.json", "/api/v2/summary.json")):
            main, listener = server.base + app_path, server.status_base + app_path
            answers = [httpx.get(u) for u in (main, listener, static + static_path)]
            if any(r.status_code != 200 for r in answers):
                raise SystemExit(f"{name}: main port, listener, nginx answered "
                                 f"{[r.status_code for r in answers]}")
            same = all(r.content == answers[-1].content for r in answers)
            main_rps, main_cpu = wrk_measured(main, seconds, app)
            listener_rps, listener_cpu = wrk_measured(listener, seconds, app)
            nginx_rps, nginx_cpu = wrk_measured(static + static_path, seconds, workers)
            rows.append([name, f"{main_rps:,.0f}", f"{listener_rps:,.0f}", f"{nginx_rps:,.0f}",
                         f"{100 * main_rps / nginx_rps:.0f}%",
                         f"{100 * listener_rps / nginx_rps:.0f}%",
                         f"{main_cpu:.1f} / {listener_cpu:.1f} / {nginx_cpu:.1f}",
                         "yes" if same else "NO"])
    return rows


# ---- 2. update -> visible --------------------------------------------------------------------

def visible(server: Server, token: str, page_id: int, updates: int) -> list[list[Any]]:
    h = {"Authorization": f"Bearer {token}"}
    c = httpx.Client(base_url=server.base, timeout=30)
    post = c.post(f"/api/v1/statuspages/{page_id}/posts", headers=h, json={
        "title": "Latency test", "stage": "investigating", "body": "start"}).json()
    page_lat, feed_lat = [], []
    stages = ["investigating"] * (updates - 1) + ["resolved"]
    for i, stage in enumerate(stages):
        marker = f"marker-{i}-{time.monotonic_ns()}"
        t0 = time.monotonic()
        r = c.post(f"/api/v1/statuspages/{page_id}/posts/{post['id']}/updates", headers=h,
                   json={"stage": stage, "body": marker})
        r.raise_for_status()
        for path, out in (("/status/acme/", page_lat), ("/status/acme/feed.atom", feed_lat)):
            while marker not in c.get(path).text:
                time.sleep(0.005)
            out.append(time.monotonic() - t0)
    return [[what, len(lat), f"{1000 * pct(lat, 50):.0f}", f"{1000 * pct(lat, 99):.0f}",
             f"{1000 * max(lat):.0f}"] for what, lat in (("page", page_lat),
                                                        ("Atom feed", feed_lat))]


# ---- 3. many subscribers, kill -9 halfway ---------------------------------------------------

class Inbox:
    def __init__(self) -> None:
        self.got: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.last = 0.0

    def reset(self) -> None:
        with self.lock:
            self.got = Counter()
            self.last = 0.0

    def arrived(self) -> int:
        with self.lock:
            return sum(self.got.values())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.got[rcpt] += 1
            self.last = time.monotonic()
        return "250 OK"


def subscribers(url: str, tmp: Path, token: str, page_id: int, count: int,
                trials: int, connections: int | None) -> list[list[Any]]:
    """One row per trial: a new update to every subscriber, SIGKILL at half, restart."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    rt = build_runtime(load_settings(env="dev", data_dir=tmp, database_url=url,
                                     secret_key=SECRET), SystemClock())
    with rt.sessions() as s, s.begin():
        s.execute(insert(StatusSubscriber), [{
            "page_id": page_id, "kind": "email", "address": f"reader{i}@example.com",
            "component_ids": [], "token": f"bench-token-{i}", "confirmed_at": NOW,
            "created_at": NOW} for i in range(count)])
        assert s.get(StatusPage, page_id) is not None
    extra = {} if connections is None else {"TOCSIN_SMTP_CONNECTIONS": str(connections)}
    server = Server(tmp, url, TOCSIN_SMTP_PORT=str(port), TOCSIN_NOTIFY_LEASE_SECONDS="5",
                    **extra)
    server.start()
    h = {"Authorization": f"Bearer {token}"}
    rows = []
    try:
        for trial in range(1, trials + 1):
            inbox.reset()
            flagged_before = _possibly_duplicated(rt)
            unconfirmed_before = _unconfirmed(rt)
            t0 = time.monotonic()
            r = httpx.post(f"{server.base}/api/v1/statuspages/{page_id}/posts", headers=h,
                           timeout=120, json={"title": f"Subscribers {trial}",
                                              "stage": "investigating",
                                              "body": "One update to everyone."})
            r.raise_for_status()
            written = time.monotonic() - t0
            while inbox.arrived() < count // 2:
                time.sleep(0.01)
            server.kill()
            killed_at = time.monotonic() - t0
            at_kill = inbox.arrived()
            server.start()
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                with rt.read_sessions() as s:
                    left = s.scalar(select(func.count()).select_from(Message).where(
                        Message.kind == "bulletin",
                        Message.status.in_(["pending", "sending"])))
                if not left:
                    break
                time.sleep(0.2)
            time.sleep(0.5)  # a straggler still on the wire
            with inbox.lock:
                got = {a for a in inbox.got if a.startswith("reader")}
                twice = sum(n - 1 for a, n in inbox.got.items()
                            if a.startswith("reader") and n > 1)
                elapsed = inbox.last - t0
            rows.append([trial, count, f"{written:.2f}", f"{killed_at:.1f}", at_kill, len(got),
                         count - len(got), twice, _possibly_duplicated(rt) - flagged_before,
                         _unconfirmed(rt) - unconfirmed_before, f"{elapsed:.1f}"])
            table(f"trial {trial}", SUBSCRIBER_COLUMNS, rows[-1:])
    finally:
        server.stop()
        controller.stop()
        rt.close()
    return rows


SUBSCRIBER_COLUMNS = ["trial", "subscribers", "publish call s", "killed after s",
                      "arrived at kill", "arrived", "missing", "twice",
                      "flagged possibly duplicated", "flagged unconfirmed",
                      "last arrived after s"]


def _possibly_duplicated(rt: Any) -> int:
    with rt.read_sessions() as s:
        return int(s.scalar(select(func.coalesce(func.sum(Message.possibly_duplicated), 0))
                            .where(Message.kind == "bulletin")) or 0)


def _unconfirmed(rt: Any) -> int:
    with rt.read_sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Message).where(
            Message.kind == "bulletin", Message.delivery_unconfirmed.is_(True))) or 0)


@contextmanager
def database(tmp: Path, postgres: bool) -> Iterator[str]:
    """A SQLite file in `tmp`, or a fresh PostgreSQL database dropped afterwards."""
    if not postgres:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    from tests.conftest import _server_url, create_pg_database, drop_pg_database

    server = _server_url()
    url = create_pg_database(server)
    try:
        yield url
    finally:
        drop_pg_database(server, url)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    ap.add_argument("--updates", type=int, default=100)
    ap.add_argument("--subscribers", type=int, default=10_000)
    ap.add_argument("--only", choices=["throughput", "visible", "subscribers"],
                    help="run one section (the others need no subscribers, and so on)")
    ap.add_argument("--kill-trials", type=int, default=1,
                    help="section 3: repeat the SIGKILL run this many times (a new update "
                    "each), one row per trial")
    ap.add_argument("--smtp-connections", type=int, default=None,
                    help="section 3: TOCSIN_SMTP_CONNECTIONS for the server (default: its own)")
    ap.add_argument("--postgres", action="store_true",
                    help="a fresh PostgreSQL database instead of SQLite")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d, database(Path(d), args.postgres) as url:
        tmp = Path(d)
        token, components = seed(url, tmp)
        server = Server(tmp, url)
        server.start()
        try:
            page_id = setup_page(server.base, token, components)
            if args.only in (None, "throughput"):
                table(f"Throughput: wrk -t1 -c32 -d{args.seconds}s, requests/s (nginx-light, "
                      "one worker, serves the export)",
                      ["file", "main port", "status listener", "nginx", "main/nginx",
                       "listener/nginx", "CPU µs/request main / listener / nginx",
                       "same bytes"],
                      throughput(server, token, page_id, tmp, args.seconds))
            if args.only in (None, "visible"):
                table("Update published (API call) to visible over HTTP, ms",
                      ["where", "updates", "p50", "p99", "max"],
                      visible(server, token, page_id, args.updates))
        finally:
            server.stop()
        if args.only in (None, "subscribers"):
            table("Subscribers notified of one update through a local SMTP server; `tocsin "
                  "serve` SIGKILLed (whole process group) at half, then restarted",
                  SUBSCRIBER_COLUMNS,
                  subscribers(url, tmp, token, page_id, args.subscribers, args.kill_trials,
                              args.smtp_connections))


if __name__ == "__main__":
    main()
