"""Chat-ops benchmark: one command, prints a table.

    .venv/bin/python bench/chatops.py                       # defaults (the issue's scale)
    .venv/bin/python bench/chatops.py --seconds 5 --storm 100   # small

Measures, against the loopback Slack stand-in of the tests (real slack_sdk on our side):
  1. slash command → its answer over real HTTP (uvicorn in a thread, signed requests as Slack
     sends them) at `--rate` commands/s for `--seconds`: p50/p99/max of the answer time, and
     how many answers missed Slack's 3 s. Commands alternate `status` and `note` in an incident
     channel (a note writes the timeline and queues a channel post, sent after the answer).
  2. an alert storm: `--storm` incidents declared over one minute (a quarter SEV2, which get
     a channel, the rest SEV3 alert messages spread over `--alert-channels` mapped channels),
     then the chat outbox drained on a simulated clock (each call is sent when the outbox
     allows it): the most calls of each method in any 60 s window against its tier limit,
     429s received, and when the last message went, counted from the storm's end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chatops.slack_standin import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    command_form,
    encode_form,
    signed,
    slack_standin,
)
from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import UserCreate
from tocsin.app import create_app
from tocsin.catalog.schemas import ServiceCreate
from tocsin.catalog.service import create_service
from tocsin.chatops import delivery, tiers
from tocsin.chatops import service as chat
from tocsin.chatops.models import CallStatus, ChatCall, Platform
from tocsin.clock import FrozenClock, SystemClock
from tocsin.db import migrate
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.schemas import IncidentCreate
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime


def runtime_for(tmp: Path, api_url: str, clock: SystemClock | FrozenClock) -> Runtime:
    rt = build_runtime(load_settings(
        env="dev", data_dir=tmp, database_url=f"sqlite:///{tmp}/bench.db",
        secret_key="bench-secret-" + "x" * 20, outbound_allow=["127.0.0.0/8"],
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
        slack_app_token=APP_TOKEN, slack_api_url=api_url, base_url="http://tocsin.test"),
        clock)
    migrate.upgrade(rt.engine)
    return rt


def _user(rt: Runtime, email: str) -> Principal:
    with rt.sessions() as session, session.begin():
        user = accounts.create_user(session, now=rt.clock.now(), data=UserCreate(
            name="Bench Responder", email=email, role=Role.RESPONDER))
        return Principal(user_id=user.id, role=Role.RESPONDER)


def slash_commands(rate: float, seconds: float) -> dict[str, float]:
    with slack_standin() as (slack, _socket), tempfile.TemporaryDirectory() as tmp:
        rt = runtime_for(Path(tmp), slack.base_url, SystemClock())
        who = _user(rt, "bench@example.com")
        slack_user = slack.add_user("bench@example.com")
        with rt.sessions() as session, session.begin():
            chat.link_user(session, platform=Platform.SLACK, external_id=slack_user,
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
        config = uvicorn.Config(create_app(rt), host="127.0.0.1", port=0, log_level="error",
                                lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}/api/v1/inbound/slack/commands"
        times: list[float] = []
        lock = threading.Lock()

        def one(n: int) -> None:
            body = encode_form(command_form(slack, user=slack_user, channel=channel_id,
                                            text="status" if n % 2 else f"note bench {n}"))
            headers = {**signed(body, now=time.time()),
                       "Content-Type": "application/x-www-form-urlencoded"}
            started = time.perf_counter()
            r = httpx.post(url, content=body, headers=headers, timeout=30)
            took = time.perf_counter() - started
            assert r.status_code == 200, r.text
            with lock:
                times.append(took)

        workers = []
        total = int(rate * seconds)
        start = time.perf_counter()
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t = threading.Thread(target=one, args=(n,))
            t.start()
            workers.append(t)
        for t in workers:
            t.join()
        server.should_exit = True
        thread.join(10)
        rt.close()
    ordered = sorted(times)
    return {"commands": len(times), "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
            "max_ms": ordered[-1] * 1000, "over_3s": sum(t > 3 for t in times)}


def storm(count: int, alert_channels: int) -> dict[str, object]:
    clock = FrozenClock()
    with slack_standin() as (slack, _socket), tempfile.TemporaryDirectory() as tmp:
        rt = runtime_for(Path(tmp), slack.base_url, clock)
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
                                      severity=lc.Severity.SEV2 if n % 4 == 0
                                      else lc.Severity.SEV3))
            delivery.send_due(rt, budget_seconds=0.05)
            clock.advance(step)
        storm_end = clock.now()
        while True:  # after it: the worker keeps sending, waiting when the limits say so
            delivery.send_due(rt, budget_seconds=5)
            with rt.read_sessions() as session:
                pending = session.scalar(select(ChatCall.due_at).where(
                    ChatCall.status.in_([CallStatus.PENDING.value, CallStatus.SENDING.value]))
                    .order_by(ChatCall.due_at).limit(1))
            if pending is None:
                break
            clock.set(max(pending, clock.now() + timedelta(milliseconds=10)))
        with rt.read_sessions() as session:
            calls = list(session.execute(select(ChatCall.method, ChatCall.sent_at,
                                                ChatCall.status)))
        rt.close()
    by_method: dict[str, list] = {}
    for method, sent_at, _status in calls:
        if sent_at is not None:
            by_method.setdefault(method, []).append(sent_at)
    worst = {}
    for method, times in by_method.items():
        times.sort()
        worst[method] = max(sum(t <= u < t + timedelta(minutes=1) for u in times)
                            for t in times)
    last = max(t for ts in by_method.values() for t in ts)
    refused = [c for c in slack.calls if not c.ok]
    return {"calls": len(calls), "failed": sum(s == CallStatus.FAILED.value for _, _, s in calls),
            "worst_per_minute": worst, "refused": len(refused),
            "last_after_storm_s": (last - storm_end).total_seconds(),
            "storm_s": (storm_end - start).total_seconds()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--storm", type=int, default=500)
    parser.add_argument("--alert-channels", type=int, default=10)
    args = parser.parse_args()
    slash = slash_commands(args.rate, args.seconds)
    print(f"\nslash command → answer, {args.rate:g}/s for {args.seconds:g} s (real HTTP)")
    print(f"{'commands':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'> 3 s':>6}")
    print(f"{slash['commands']:>9} {slash['p50_ms']:>8.1f} {slash['p99_ms']:>8.1f} "
          f"{slash['max_ms']:>8.1f} {slash['over_3s']:>6}")
    result = storm(args.storm, args.alert_channels)
    print(f"\nalert storm: {args.storm} incidents in {result['storm_s']:.0f} s (simulated "
          f"clock), {args.alert_channels} alert channels")
    print(f"{'method':<24} {'most in 60 s':>12} {'tier limit':>10}")
    worst = result["worst_per_minute"]
    assert isinstance(worst, dict)
    for method in sorted(worst):
        limit = tiers.limit_of(method)
        per_minute = limit.calls * int(timedelta(minutes=1) / limit.window)
        note = " per channel" if limit.per_channel else ""
        print(f"{method:<24} {worst[method]:>12} {per_minute:>10}{note}")
    after = float(result["last_after_storm_s"])  # type: ignore[arg-type]
    when = (f"last message {after:.0f} s after the storm's end" if after > 0
            else "every message sent before the storm ended")
    print(f"calls {result['calls']}, failed {result['failed']}, refused by Slack "
          f"{result['refused']}, {when}")


if __name__ == "__main__":
    main()
