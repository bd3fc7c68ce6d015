"""Web sign-in time per path: does the answer time tell which accounts exist?

    .venv/bin/python bench/sign_in.py [--rounds 20]

Signs in (in process, SQLite in a temp dir) as an unknown email, an account without a
password, a disabled account, a wrong password and the right one, interleaved, and prints
the median and spread of each. Every path verifies one argon2 hash, so the medians should
agree within a few milliseconds (the test in tests/web checks the behaviour; this shows
the times). The sign-in throttle is lifted for the run.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tocsin.accounts import service as accounts
from tocsin.accounts.models import User
from tocsin.accounts.schemas import UserCreate
from tocsin.app import create_app
from tocsin.db import migrate
from tocsin.principal import Role
from tocsin.settings import load_settings
from tocsin.web.throttle import SignInThrottle
from tocsin.wiring import build_runtime

PASSWORD = "benchmark password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(env="dev", data_dir=Path(tmp))
        runtime = build_runtime(settings)
        migrate.upgrade(runtime.engine)
        now = runtime.clock.now()
        with runtime.sessions() as session, session.begin():
            for email, password in (("real@example.com", PASSWORD),
                                    ("nopass@example.com", None),
                                    ("off@example.com", PASSWORD)):
                accounts.create_user(session, data=UserCreate(
                    name=email, email=email, role=Role.RESPONDER, password=password), now=now)
            off = session.query(User).filter_by(email="off@example.com").one()
            off.active = False
        app = create_app(runtime)
        cases = {"unknown email": ("ghost@example.com", PASSWORD),
                 "no password": ("nopass@example.com", PASSWORD),
                 "disabled": ("off@example.com", PASSWORD),
                 "wrong password": ("real@example.com", "wrong password!"),
                 "right password": ("real@example.com", PASSWORD)}
        times: dict[str, list[float]] = {name: [] for name in cases}
        with TestClient(app) as client:
            app.state.web_throttle = SignInThrottle(max_failures=10**9)
            for _ in range(args.rounds):
                for name, (email, password) in cases.items():
                    client.cookies.clear()
                    found = CSRF.search(client.get("/login").text)
                    assert found
                    started = time.perf_counter()
                    client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": found.group(1)},
                                follow_redirects=False)
                    times[name].append((time.perf_counter() - started) * 1000)
        runtime.close()
    print(f"{'path':<16} {'median ms':>10} {'min':>8} {'max':>8}   ({args.rounds} rounds)")
    for name, values in times.items():
        print(f"{name:<16} {statistics.median(values):>10.1f} {min(values):>8.1f} "
              f"{max(values):>8.1f}")


if __name__ == "__main__":
    main()
