"""Web fixtures: a real uvicorn server on a loopback ephemeral port, and headless Chromium
(Debian's package, driven by playwright). Browser tests skip, saying why, without it."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, Account
from tocsin.app import create_app
from tocsin.runtime import Runtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Screenshots that docs/ shows are written there only when asked (TOCSIN_DOC_SCREENSHOTS=1),
# so a plain test run leaves the tree as it was (some show a random integration key).
DOC_SCREENSHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
                   if os.environ.get("TOCSIN_DOC_SCREENSHOTS") else SCREENSHOTS)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


class LiveServer:
    def __init__(self, runtime: Runtime) -> None:
        config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0,
                                log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web-test-server",
                                       daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60  # includes building the routes (api/warmup.py)
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def live_url(runtime: Runtime) -> Iterator[str]:
    server = LiveServer(runtime)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package "
                    "(.ci/install-system-deps) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context (own cookies); desktop width unless told."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None, **options: Any) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, base: str, account: Account, *, path: str = "/") -> None:
    page.goto(base + path)
    page.get_by_label("Email").fill(account.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ---- in-process client helpers (no browser) ---------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_login(client: TestClient, account: Account, next_url: str = "/") -> str:
    """Sign `client` in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = CSRF_RE.search(page.text)
    assert token, page.text
    r = client.post("/login", data={"email": account.user.email, "password": PASSWORD,
                                    "csrf_token": token.group(1), "next": next_url},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    found = CSRF_RE.search(client.get("/").text)
    assert found
    return found.group(1)
