"""Event webhooks go through notify's guarded sender: a receiver's name is resolved once, at
connect time, each answer judged by the outbound policy, and that address connected to. A
name that answered a public address when the subscription was made and answers loopback now
(DNS rebinding) reaches nothing; the delivery fails at once, and the log says why."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.webhooks.test_event_webhooks import deliver, receiver
from tocsin.app import create_app
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    """The default policy: no internal receiver allowed."""
    return make_settings(database_url=database_url, outbound_allow=[])


def test_a_receiver_name_rebound_to_loopback_is_refused_at_connect_and_reaches_nothing(
        client: TestClient, runtime: Runtime, admin: Account,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"events-{uuid.uuid4().hex[:8]}.rebind.test"  # no resolver cache knows it
    answer = {"now": "93.184.216.34"}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked = host.decode() if isinstance(host, bytes) else str(host)
        if asked.rstrip(".") != name:
            return real(host, port, *args, **kwargs)
        lookups.append(answer["now"])
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer["now"], int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with receiver([]) as (got, url):
        port = url.rsplit(":", 1)[1].split("/")[0]
        r = client.post("/api/v1/webhooks", headers=admin.headers, json={
            "name": "rebinding", "url": f"http://{name}:{port}/hook"})
        assert r.status_code == 201, r.text  # it answered a public address then
        sub = r.json()
        lookups.clear()
        answer["now"] = "127.0.0.1"
        assert client.post(f"/api/v1/webhooks/{sub['id']}/test",
                           headers=admin.headers).status_code == 202
        assert deliver(runtime) == 1
        assert deliver(runtime) == 0  # permanent: no retry
    assert got == []
    assert lookups == ["127.0.0.1"]  # one lookup, at connect: the answer judged is the one used
    [d] = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries",
                     headers=admin.headers).json()["items"]
    assert d["status"] == "failed" and d["response_status"] is None
    assert [a["outcome"] for a in d["log"]] == ["failed"]
    assert f"refused: {name} resolves to 127.0.0.1 is a loopback address" in d["last_error"]


def test_a_loopback_address_in_the_url_is_refused_before_any_connection(
        client: TestClient, runtime: Runtime, admin: Account, make_settings: Any,
        database_url: str) -> None:
    """Allowed when the subscription was made (by a server that allowed loopback), refused
    by this one: an address written in the URL is judged before the request."""
    with receiver([]) as (got, url):
        loose = build_runtime(make_settings(database_url=database_url), runtime.clock)
        try:
            with TestClient(create_app(loose), raise_server_exceptions=False) as lc:
                sub = lc.post("/api/v1/webhooks", headers=admin.headers,
                              json={"name": "x", "url": url}).json()
                assert lc.post(f"/api/v1/webhooks/{sub['id']}/test",
                               headers=admin.headers).status_code == 202
        finally:
            loose.close()
        assert deliver(runtime) == 1
    assert got == []
    [d] = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries",
                     headers=admin.headers).json()["items"]
    assert d["status"] == "failed" and "127.0.0.1 is a loopback address" in d["last_error"]
