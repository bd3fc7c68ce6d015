"""In Chromium, JavaScript off: the public page read from the status listener (another origin
than the app) subscribes through its form: the listener's 308 carries the POST to the app's
`base_url`, which the page's CSP `form-action` allows."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Account
from tests.intake.conftest import serve
from tests.statuspages.helpers import page as make_page
from tocsin.runtime import Runtime
from tocsin.settings import Settings

MAIN, STATUS = 0, 1


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ports


PORTS = _free_ports(2)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"statuspage_port": PORTS[STATUS],
                                       "base_url": f"http://127.0.0.1:{PORTS[MAIN]}"})


def test_subscribe_form_on_the_listener_posts_on_to_the_app(
        runtime: Runtime, client: Any, admin: Account, new_page: Any) -> None:
    make_page(client, admin)
    with serve(runtime, PORTS[MAIN]):
        reader = new_page(java_script_enabled=False)
        reader.goto(f"http://127.0.0.1:{PORTS[STATUS]}/status/acme/")
        expect(reader.get_by_role("heading", name="Acme status")).to_be_visible()
        reader.get_by_label("Email address").fill("reader@example.com")
        reader.get_by_role("button", name="Subscribe").click()
        expect(reader.get_by_role("heading", name="Almost done")).to_be_visible()
        assert reader.url == f"http://127.0.0.1:{PORTS[MAIN]}/status/acme/subscribe"
