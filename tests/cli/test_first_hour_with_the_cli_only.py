"""Issue 14: from a clean data folder to a page received, following the README, with the
`tocsin` command alone — no raw HTTP call to the server (only the health wait, which is
what "open the URL serve printed" means to a person)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    LOOPBACK_ALLOWED_ENV,
    STARTUP_SECONDS,
    create_pg_database,
    drop_pg_database,
)
from tests.notify.servers import Received, free_port, http_receiver

pytestmark = pytest.mark.slow
PATIENCE = 60.0  # seconds; generous: the machine may be loaded, a page normally takes < 1 s


def tocsin_command() -> list[str]:
    """`.venv/bin/tocsin`, as the README says, when installed beside this Python."""
    script = Path(sys.executable).parent / "tocsin"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tocsin"]


@dataclass
class Server:
    url: str
    email: str
    token: str
    env: dict[str, str]  # what a user's shell has after the README's `export` line

    def tocsin(self, *args: str) -> str:
        done = subprocess.run([*tocsin_command(), *args], env=self.env, text=True,
                              capture_output=True, timeout=60)
        assert done.returncode == 0, f"tocsin {' '.join(args)}: {done.stderr}"
        assert not done.stderr, done.stderr  # no traceback, and no warning on this path
        return done.stdout

    def tocsin_json(self, *args: str) -> Any:
        return json.loads(self.tocsin(*args, "--json"))


@pytest.fixture
def database_env() -> Iterator[dict[str, str]]:
    """SQLite in the data folder; on the PostgreSQL pass, a fresh, empty database."""
    server = os.environ.get("TOCSIN_TEST_DATABASE_URL")
    if not server:
        yield {}
        return
    url = create_pg_database(server)
    yield {"TOCSIN_DATABASE_URL": url}
    drop_pg_database(server, url)


@pytest.fixture
def first_run(tmp_path: Path, database_env: dict[str, str]) -> Iterator[Server]:
    data = tmp_path / "tocsin-data"
    assert not data.exists()
    port = free_port()
    # The server's whole environment, in one place (a setting the server needs is one line).
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    server_env.update(database_env)
    # The receiver is on loopback, which the server refuses to send to unless allowed.
    server_env.update(LOOPBACK_ALLOWED_ENV)
    log = tmp_path / "serve.out"
    proc = subprocess.Popen([*tocsin_command(), "serve", "--port", str(port), "--data-dir",
                             str(data)], env=server_env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Tocsin listening on" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        said = log.read_text().splitlines()
        kind = "postgresql" if database_env else "sqlite"
        assert any(f"(database: {kind}," in line for line in said), said
        token = next(line.split()[-1] for line in said if "API key:" in line)
        email = next(line.split()[-1] for line in said if "email:" in line)
        user_env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        user_env.update({"TOCSIN_URL": url, "TOCSIN_TOKEN": token})
        yield Server(url, email, token, user_env)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)


def wait_for(got: list[Received], want: str) -> dict[str, Any]:
    """The first JSON body received whose `kind` is `want`."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        for item in list(got):
            body: dict[str, Any] = json.loads(item.body)
            if body.get("kind") == want:
                return body
        time.sleep(0.05)
    raise AssertionError(f"no {want!r} message within {PATIENCE:g} s; got {got}")


def test_readme_to_a_page_on_my_webhook_with_the_cli_only(first_run: Server) -> None:
    cli = first_run
    with http_receiver() as (got, receiver_url):
        # Where I want to be paged: a webhook (my phone's push service, in real life).
        method = cli.tocsin_json("user", "contact-method", "add", "webhook",
                                 f"{receiver_url}/pager", "--label", "phone")
        assert method["verified"] is False
        code = wait_for(got, "verify")["code"]  # the code arrives at the method itself
        verified = cli.tocsin_json("user", "contact-method", "verify", str(method["id"]), code)
        assert verified["verified"] is True
        listed = cli.tocsin_json("user", "contact-method", "list")
        assert [m["verified"] for m in listed] == [True]

        # Who is paged, for what, and where the alerts come in.
        policy = cli.tocsin_json("escalation", "create", "primary", "--level", "me")
        assert policy["levels"][0]["targets"][0]["kind"] == "user"
        service = cli.tocsin_json("service", "create", "checkout", "--tier", "critical",
                                  "--escalation-policy", "primary")
        assert service["escalation_policies"] == dict.fromkeys(
            ["SEV1", "SEV2", "SEV3", "SEV4"], "primary")
        created = cli.tocsin("integration", "create", "--service", "checkout", "--kind",
                             "generic", "--name", "cron", "--mapping",
                             '{"title": "$.check.name", "dedup_key": "$.check.id"}')
        assert "/api/v1/intake/generic/" in created and "curl" in created

        # A real alert through the integration, as its sender would post it: I am paged.
        sent = cli.tocsin_json("integration", "test", "cron")
        assert sent["status"] == 202, sent
        page = wait_for(got, "page")
        assert page["title"] == "Test alert from Tocsin" and page["number"].startswith("INC-")
        assert all(item.path == "/pager" for item in got)

        # And I can answer it from the same command line.
        acked = cli.tocsin_json("incident", "ack", page["number"])
        assert acked["status"] == "acknowledged"

        # `tocsin setup` agrees, once I have also sent myself a test message.
        assert "✗ Send yourself a test message" in cli.tocsin("setup")
        cli.tocsin("user", "contact-method", "test", str(method["id"]))
        wait_for(got, "test")
        deadline = time.monotonic() + PATIENCE
        while not (state := cli.tocsin_json("setup"))["done"]:  # delivery is recorded after
            assert time.monotonic() < deadline, state
            time.sleep(0.1)
        assert "All done: Tocsin can page you." in cli.tocsin("setup")
