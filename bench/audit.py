"""What the audit log costs: configuration writes with and without its session hook, and
how fast `tocsin audit verify` reads the chain.

    .venv/bin/python bench/audit.py [--writes 500] [--entries 20000] [--database-url URL]

In process, SQLite in a temp dir unless a URL is given. "writes" are single-row updates of
a team's description, each its own transaction (the shape of an admin's edit); the same
loop runs on a runtime with the hook and on one without it. Then `entries` audit entries
are appended and the chain verified. Prints one table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import TeamCreate
from tocsin.audit import service as audit
from tocsin.db import migrate
from tocsin.runtime import Runtime, open_runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime


def _writes(runtime: Runtime, n: int) -> list[float]:
    now = runtime.clock.now()
    with runtime.sessions() as s, s.begin():
        team_id = accounts.create_team(s, data=TeamCreate(name=f"bench {time.time()}"),
                                       now=now).id
    times = []
    for i in range(n):
        started = time.perf_counter()
        with runtime.sessions() as s, s.begin():
            accounts.get_team(s, team_id).description = f"edit {i}"
        times.append(time.perf_counter() - started)
    return times


def _row(name: str, times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.2f} | {p95:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env="dev", data_dir=Path(tmp),
                                 database_url=args.database_url)
        plain = open_runtime(settings)  # no hooks: the audit log off
        migrate.upgrade(plain.engine)
        audited = build_runtime(settings)
        without = _writes(plain, args.writes)
        with_hook = _writes(audited, args.writes)
        now = audited.clock.now()
        started = time.perf_counter()
        batch = 500
        for _ in range(args.entries // batch):
            with audited.sessions() as s, s.begin():
                for _ in range(batch):
                    audit.record(s, action="bench", target="bench", now=now, detail="x" * 40)
        append_s = time.perf_counter() - started
        with audited.read_sessions() as s:
            started = time.perf_counter()
            checked, broken = audit.verify(s)
            verify_s = time.perf_counter() - started
        assert broken is None
        print(f"database: {audited.engine.dialect.name}")
        print("| configuration write | n | median ms | p95 ms |")
        print("|---|---|---|---|")
        print(_row("without the audit hook", without))
        print(_row("with the audit hook", with_hook))
        print()
        print("| chain | entries | seconds | entries/s |")
        print("|---|---|---|---|")
        appended = args.entries // batch * batch
        print(f"| append (batches of {batch}) | {appended} | {append_s:.2f} | "
              f"{appended / append_s:,.0f} |")
        print(f"| verify | {checked} | {verify_s:.2f} | {checked / verify_s:,.0f} |")
        plain.close()
        audited.close()


if __name__ == "__main__":
    main()
