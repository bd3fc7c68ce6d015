"""First run: the admin `tocsin serve` prints can sign in to the web app; expired sessions
are purged by the engine job."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.web.conftest import CSRF_RE
from tocsin.clock import FrozenClock
from tocsin.engine.worker import JobContext
from tocsin.runtime import Runtime
from tocsin.server import bootstrap
from tocsin.web import jobs
from tocsin.web.auth import COOKIE


def test_bootstrapped_admin_signs_in_and_sessions_are_purged(
        client: TestClient, runtime: Runtime, clock: FrozenClock) -> None:
    said: list[str] = []
    bootstrap(runtime, said.append)
    email = re.search(r"email:\s+(\S+)", "\n".join(said))
    password = re.search(r"password:\s+(\S+)", "\n".join(said))
    assert email and password and email.group(1) == "admin@example.com"
    token = CSRF_RE.search(client.get("/login").text)
    assert token
    r = client.post("/login", data={"email": email.group(1), "password": password.group(1),
                                    "csrf_token": token.group(1), "next": "/users/new"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/users/new"
    assert client.get("/users/new").status_code == 200  # an admin page
    assert client.cookies.get(COOKIE)

    ctx = JobContext(runtime=runtime, worker_id="test", handlers={})
    assert jobs.purge_sessions(ctx) == 0  # still live
    clock.advance(timedelta(hours=13))
    assert jobs.purge_sessions(ctx) == 1
    assert client.get("/", follow_redirects=False).status_code == 303
