"""Chat-ops benchmark: one command, prints a table.

    .venv/bin/python bench/chatops.py                          # the issue's scale, SQLite
    .venv/bin/python bench/chatops.py --db postgres            # the same on PostgreSQL
    .venv/bin/python bench/chatops.py --seconds 5 --storm 100  # small

Measures, against the loopback Slack stand-in of the tests (real slack_sdk on our side):
  1. slash command → its answer over real HTTP at `--rate` commands/s for `--seconds`, with
     three separate processes as in production: `tocsin serve` (API, engine and delivery
     processes), the Slack stand-in (`bench/chatops.py standin`), and this one generating
     the load (signed requests as Slack sends them, open loop: a slow answer does not slow
     the next request). p50/p99/max of the answer time and how many missed Slack's 3 s.
     Commands alternate `status` and `note` in an incident channel (a note writes the
     timeline and queues a channel post, sent after the answer).
  2. an alert storm: `--storm` incidents declared over one minute (a quarter SEV2, which get
     a channel, the rest SEV3 alert messages spread over `--alert-channels` mapped channels),
     then the chat outbox drained on a simulated clock that also moves on by the real time
     each send takes: the most calls of each method in any 60 s window against its tier
     limit, 429s received, and when the last message went, counted from the storm's end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests.chatops.slack_standin import (  # noqa: E402
    BOT_TOKEN,
    SIGNING_SECRET,
    encode_form,
    signed,
    slack_standin,
)
from tests.conftest import create_pg_database, drop_pg_database  # noqa: E402
from tocsin.accounts import service as accounts  # noqa: E402
from tocsin.accounts.schemas import UserCreate  # noqa: E402
from tocsin.catalog.schemas import ServiceCreate  # noqa: E402
from tocsin.catalog.service import create_service  # noqa: E402
from tocsin.chatops import delivery, tiers  # noqa: E402
from tocsin.chatops import service as chat  # noqa: E402
from tocsin.chatops.models import (  # noqa: E402
    CallStatus,
    ChatArrival,
    ChatCall,
    Platform,
    StormMessage,
)
from tocsin.clock import FrozenClock, SystemClock  # noqa: E402
from tocsin.db import migrate  # noqa: E402
from tocsin.incidents import lifecycle as lc  # noqa: E402
from tocsin.incidents import service as incidents  # noqa: E402
from tocsin.incidents.schemas import IncidentCreate  # noqa: E402
from tocsin.principal import Principal, Role  # noqa: E402
from tocsin.runtime import Runtime  # noqa: E402
from tocsin.settings import load_settings  # noqa: E402
from tocsin.wiring import build_runtime  # noqa: E402

PG_SERVER = os.environ.get("TOCSIN_BENCH_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-" + "x" * 20


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


def runtime_for(tmp: Path, url: str, api_url: str, clock: SystemClock | FrozenClock,
                **extra: Any) -> Runtime:
    rt = build_runtime(load_settings(
        env="dev", data_dir=tmp, database_url=url, secret_key=SECRET,
        outbound_allow=["127.0.0.0/8"], slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET, slack_api_url=api_url,
        base_url="http://tocsin.test", **extra), clock)
    migrate.upgrade(rt.engine)
    return rt


def _user(rt: Runtime, email: str) -> Principal:
    with rt.sessions() as session, session.begin():
        user = accounts.create_user(session, now=rt.clock.now(), data=UserCreate(
            name="Bench Responder", email=email, role=Role.RESPONDER))
        return Principal(user_id=user.id, role=Role.RESPONDER)


# ---- slash commands, three processes ---------------------------------------------------------

def standin_main() -> None:
    """`bench/chatops.py standin`: the Slack stand-in in a process of its own; prints its
    address and a Slack user as one JSON line, serves until stdin closes, then prints the
    calls it took per method."""
    with slack_standin() as (slack, _socket):
        user = slack.add_user("bench@example.com")
        print(json.dumps({"base_url": slack.base_url, "user": user}), flush=True)
        sys.stdin.read()
        counts: dict[str, list[int]] = {}
        for call in slack.calls:
            counts.setdefault(call.method, [0, 0])[0 if call.ok else 1] += 1
        print(json.dumps(counts), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_up(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"tocsin serve exited with {proc.returncode}")
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {base} did not come up")


def _form(text: str, *, user: str, channel: str, n: int) -> bytes:
    return encode_form({
        "token": "deprecated-verification-token", "team_id": "T0STANDIN",
        "team_domain": "standin", "channel_id": channel, "channel_name": "inc",
        "user_id": user, "user_name": "bench", "command": "/incident", "text": text,
        "api_app_id": "A111", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T0/1/x",
        "trigger_id": f"{n}.{n}.bench"})


async def _load(url: str, rate: float, seconds: float, user: str, channel: str,
                first: int) -> list[float]:
    """Open loop: request n starts at n / rate whatever the earlier answers do."""
    times: list[float] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        async def one(n: int, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            body = _form("status" if n % 2 else f"note bench {n}", user=user,
                         channel=channel, n=n)
            headers = {**signed(body, now=time.time()),
                       "Content-Type": "application/x-www-form-urlencoded"}
            started = time.perf_counter()
            r = await client.post(url, content=body, headers=headers)
            took = time.perf_counter() - started
            assert r.status_code == 200, r.text
            times.append(took)

        start = time.perf_counter() + 0.2
        total = int(rate * seconds)
        await asyncio.gather(*(one(first + n, start + n / rate) for n in range(total)))
    return times


def slash_commands(kind: str, rate: float, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d, database(kind, Path(d)) as url:
        tmp = Path(d)
        standin = subprocess.Popen([sys.executable, __file__, "standin"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        proc: subprocess.Popen[bytes] | None = None
        try:
            assert standin.stdout is not None and standin.stdin is not None
            info = json.loads(standin.stdout.readline())
            rt = runtime_for(tmp, url, info["base_url"], SystemClock())
            who = _user(rt, "bench@example.com")
            with rt.sessions() as session, session.begin():
                chat.link_user(session, platform=Platform.SLACK, external_id=info["user"],
                               user_id=who.user_id, via="admin", now=rt.clock.now())
                incident = incidents.declare(session, actor=who, now=rt.clock.now(),
                                             settings=rt.settings,
                                             data=IncidentCreate(title="Bench", severity="SEV2"))
                incident_id = incident.id
            delivery.send_due(rt, budget_seconds=30)
            with rt.read_sessions() as session:
                channel = chat.channel_of(session, incident_id)
                assert channel is not None and channel.channel_id
                channel_id = channel.channel_id
            rt.close()
            port = free_port()
            env = {**os.environ, "TOCSIN_ENV": "dev", "TOCSIN_DATA_DIR": str(tmp),
                   "TOCSIN_DATABASE_URL": url, "TOCSIN_SECRET_KEY": SECRET,
                   "TOCSIN_LOG_LEVEL": "WARNING", "TOCSIN_OUTBOUND_ALLOW": '["127.0.0.0/8"]',
                   "TOCSIN_SLACK_BOT_TOKEN": BOT_TOKEN,
                   "TOCSIN_SLACK_SIGNING_SECRET": SIGNING_SECRET,
                   "TOCSIN_SLACK_API_URL": info["base_url"],
                   "TOCSIN_BASE_URL": "http://tocsin.test"}
            with open(tmp / "serve.log", "ab") as log:
                proc = subprocess.Popen([sys.executable, "-m", "tocsin", "serve", "--port",
                                         str(port)], env=env, stdout=log,
                                        stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            wait_up(base, proc)
            target = base + "/api/v1/inbound/slack/commands"
            asyncio.run(_load(target, 5, 2, info["user"], channel_id, 100000))  # warm-up
            time.sleep(1)
            times = asyncio.run(_load(target, rate, seconds, info["user"], channel_id, 0))
            time.sleep(2)  # what the commands queued goes out
        finally:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            out, _ = standin.communicate("", timeout=20)
        calls = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    ordered = sorted(times)
    return {"commands": len(times), "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
            "max_ms": ordered[-1] * 1000, "over_3s": sum(t > 3 for t in times),
            "standin_calls": calls}


def storm(kind: str, count: int, alert_channels: int) -> dict[str, Any]:
    clock = FrozenClock()
    with slack_standin() as (slack, _socket), tempfile.TemporaryDirectory() as tmp, \
            database(kind, Path(tmp)) as url:
        rt = runtime_for(Path(tmp), url, slack.base_url, clock)
        who = _user(rt, "storm@example.com")
        with rt.sessions() as session, session.begin():
            services = []
            for n in range(alert_channels):
                svc = create_service(session, data=ServiceCreate(name=f"svc-{n}"),
                                     now=clock.now())
                chat.add_channel_map(session, platform=Platform.SLACK, service_id=svc.id,
                                     channel_id=slack.add_channel(f"alerts-{n}"), team_id=None,
                                     now=clock.now())
                services.append(svc.id)
        start = clock.now()
        step = timedelta(seconds=60 / max(1, count))
        for n in range(count):  # the storm: a minute of new incidents, the outbox sending
            with rt.sessions() as session, session.begin():
                incidents.declare(session, actor=who, now=clock.now(), settings=rt.settings,
                                  data=IncidentCreate(
                                      title=f"Storm {n}", service_ids=[services[n % len(services)]],
                                      detection_source=lc.DetectionSource.MONITOR,
                                      severity=lc.Severity.SEV2 if n % 4 == 0
                                      else lc.Severity.SEV3))
            delivery.send_due(rt, budget_seconds=0.05)
            clock.advance(step)
        storm_end = clock.now()
        while True:  # after it: the worker keeps sending, waiting when the limits say so
            began = time.monotonic()
            delivery.send_due(rt, budget_seconds=5)
            clock.advance(timedelta(seconds=time.monotonic() - began))  # sending takes time
            with rt.read_sessions() as session:
                pending = session.scalar(select(ChatCall.due_at).where(
                    ChatCall.status.in_([CallStatus.PENDING.value, CallStatus.SENDING.value]))
                    .order_by(ChatCall.due_at).limit(1))
            if pending is None:
                break
            clock.set(max(pending, clock.now() + timedelta(milliseconds=10)))
        with rt.read_sessions() as session:
            calls = [(m, c, t, st) for m, c, t, st in session.execute(select(
                ChatCall.method, ChatCall.channel_id, ChatCall.sent_at, ChatCall.status))]
            grouped = session.scalar(select(func.count()).select_from(ChatArrival).where(
                ChatArrival.grouped.is_(True))) or 0
            storms = session.scalar(select(func.count()).select_from(StormMessage)) or 0
        rt.close()
    sent: dict[tuple[str, str], list[datetime]] = {}
    for method, channel, sent_at, _status in calls:
        if sent_at is not None:
            per_channel = tiers.limit_of(method).per_channel
            sent.setdefault((method, channel if per_channel else ""), []).append(sent_at)
    worst: dict[str, int] = {}
    for (method, _channel), times in sent.items():
        window = tiers.limit_of(method).window
        times.sort()
        most = max(sum(t <= u < t + window for u in times) for t in times)
        worst[method] = max(worst.get(method, 0), most)
    per_minute: dict[str, int] = {}
    for (method, _channel), times in sent.items():
        per_minute[method] = per_minute.get(method, 0) + len(times)
    last = max(t for ts in sent.values() for t in ts)
    refused = [c for c in slack.calls if not c.ok]
    return {"calls": len(calls), "failed": sum(st == CallStatus.FAILED.value
                                               for *_rest, st in calls),
            "worst": worst, "sent": per_minute, "refused": len(refused),
            "grouped": grouped, "storms": storms,
            "last_after_storm_s": (last - storm_end).total_seconds(),
            "storm_s": (storm_end - start).total_seconds()}


def main() -> None:
    if sys.argv[1:2] == ["standin"]:
        standin_main()
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--storm", type=int, default=500)
    parser.add_argument("--alert-channels", type=int, default=10)
    parser.add_argument("--only", choices=["slash", "storm"], default=None)
    args = parser.parse_args()
    print(f"database: {args.db}; load average before: {os.getloadavg()[0]:.1f}")
    if args.only != "storm":
        slash = slash_commands(args.db, args.rate, args.seconds)
        print(f"\nslash command → answer, {args.rate:g}/s for {args.seconds:g} s (real HTTP; "
              "tocsin serve, the Slack stand-in and this load generator in separate processes)")
        print(f"{'commands':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'> 3 s':>6}")
        print(f"{slash['commands']:>9} {slash['p50_ms']:>8.1f} {slash['p99_ms']:>8.1f} "
              f"{slash['max_ms']:>8.1f} {slash['over_3s']:>6}")
        print("calls the stand-in took (ok, refused): " + ", ".join(
            f"{m} {ok}/{bad}" for m, (ok, bad) in sorted(slash["standin_calls"].items())))
    if args.only == "slash":
        return
    result = storm(args.db, args.storm, args.alert_channels)
    print(f"\nalert storm: {args.storm} incidents in {result['storm_s']:.0f} s (simulated "
          f"clock, moved on by real sending time too), {args.alert_channels} alert channels; "
          f"{result['grouped']} grouped into {result['storms']} storm messages")
    print(f"{'method':<24} {'calls':>6} {'most in a window':>17} {'limit':>6} {'window':>14}")
    for method in sorted(result["worst"]):
        limit = tiers.limit_of(method)
        window = f"{limit.window.total_seconds():g} s" + (" per chan." if limit.per_channel
                                                          else "")
        print(f"{method:<24} {result['sent'][method]:>6} {result['worst'][method]:>17} "
              f"{limit.calls:>6} {window:>14}")
    over = [m for m, n in result["worst"].items() if n > tiers.limit_of(m).calls]
    after = float(result["last_after_storm_s"])
    when = (f"last call {after:.0f} s after the storm's end" if after > 0
            else "every call sent before the storm ended")
    print(f"calls {result['calls']}, failed {result['failed']}, refused by Slack "
          f"{result['refused']}, over a tier: {', '.join(over) or 'none'}; {when}")


if __name__ == "__main__":
    main()
