"""An event webhook subscription on a real loopback HTTP server gets an incident's whole life,
signed, in order, with a retry after a 500; bad receivers are refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.engine.worker import JobContext
from tocsin.notify.webhook.sender import verify
from tocsin.runtime import Runtime
from tocsin.webhooks import jobs

SECRET = "a-long-shared-secret-for-tests-0123"


@contextmanager
def receiver(statuses: list[int]) -> Iterator[tuple[list[tuple[dict[str, str], bytes]], str]]:
    """Answers the given statuses in turn (then 200), recording every request."""
    got: list[tuple[dict[str, str], bytes]] = []
    answers = iter(statuses)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                got.append((dict(self.headers.items()), body))
                status = next(answers, 200)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield got, f"http://127.0.0.1:{server.server_address[1]}/tocsin-events"
    finally:
        server.shutdown()
        server.server_close()


def deliver(runtime: Runtime) -> int:
    return jobs.deliver(JobContext(runtime=runtime, worker_id="test", handlers={}))


def test_subscription_receives_the_whole_life_signed_with_a_retry_after_500(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        responder: Account, make_account: Any, make_incident: Any) -> None:
    nxt = make_account(name="Nina Next")
    with receiver([500]) as (got, url):
        r = client.post("/api/v1/webhooks", headers=admin.headers, json={
            "name": "ticketing", "url": url, "secret": SECRET, "severities": ["SEV1", "SEV2"]})
        assert r.status_code == 201, r.text
        sub = r.json()
        assert sub["secret"] == SECRET
        assert "secret" not in client.get(f"/api/v1/webhooks/{sub['id']}",
                                          headers=admin.headers).json() or \
            client.get(f"/api/v1/webhooks/{sub['id']}", headers=admin.headers).json()[
                "secret"] is None
        make_incident(severity="SEV4")  # filtered out by severity
        inc = make_incident(title="Checkout down", severity="SEV1")
        iid, h = inc["id"], responder.headers
        assert deliver(runtime) == 1  # declared: answered 500
        assert len(got) == 1
        clock.advance(seconds=14)
        assert deliver(runtime) == 0  # not due yet (15 s backoff)
        clock.advance(seconds=2)
        assert deliver(runtime) == 1  # the retry is accepted
        assert len(got) == 2 and got[0][1] == got[1][1]  # the same event, the same bytes

        steps: list[tuple[str, dict[str, Any] | None]] = [
            ("acknowledge", None),
            ("status", {"status": "investigating"}),
            ("severity", {"severity": "SEV2", "reason": "fewer users"}),
            ("entries", {"kind": "note", "body": "rolled back"}),
            ("resolve", {"resolution_summary": "rollback", "users_affected": 10}),
        ]
        for path, body in steps:
            clock.advance(minutes=1)
            assert client.post(f"/api/v1/incidents/{iid}/{path}", json=body,
                               headers=h).status_code in (200, 201)
        assert client.post(f"/api/v1/incidents/{iid}/handoff", headers=h, json={
            "role": "commander", "to_user_id": nxt.id, "note": "over to you"}).status_code == 200
        clock.advance(hours=5)
        assert client.post(f"/api/v1/incidents/{iid}/close", json={},
                           headers=h).status_code == 200
        while deliver(runtime):
            pass

    events = []
    for headers, body in got[1:]:
        assert verify(body, headers["X-Tocsin-Signature"], SECRET)
        assert not verify(body, headers["X-Tocsin-Signature"], "another-secret-0123456789")
        event = json.loads(body)
        assert headers["X-Tocsin-Event"] == event["type"]
        assert headers["Idempotency-Key"] == event["id"]
        assert event["version"] == 1 and event["incident"]["id"] == iid
        assert event["incident"]["url"].endswith(f"/incidents/{iid}")
        events.append(event)
    types = [e["type"] for e in events]
    assert types == ["incident.declared", "incident.acknowledged",
                     "incident.role_changed",  # the acknowledger became commander
                     "incident.status_changed", "incident.severity_changed",
                     "incident.note_added", "incident.resolved",
                     "incident.role_changed", "incident.role_changed",  # handoff
                     "incident.closed"], types
    assert events[-1]["incident"]["status"] == "closed"

    log = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries",
                     headers=admin.headers).json()["items"]
    first = log[-1]
    assert first["event_type"] == "incident.declared" and first["status"] == "sent"
    assert [a["response_status"] for a in first["log"]] == [500, 200]
    assert [a["outcome"] for a in first["log"]] == ["retry", "sent"]
    assert all(d["status"] == "sent" for d in log)


def test_send_test_reaches_the_receiver(client: TestClient, runtime: Runtime,
                                        admin: Account) -> None:
    with receiver([]) as (got, url):
        sub = client.post("/api/v1/webhooks", headers=admin.headers,
                          json={"name": "t", "url": url}).json()
        assert len(sub["secret"]) >= 32
        r = client.post(f"/api/v1/webhooks/{sub['id']}/test", headers=admin.headers)
        assert r.status_code == 202
        assert deliver(runtime) == 1
    headers, body = got[0]
    assert json.loads(body)["type"] == "test"
    assert verify(body, headers["X-Tocsin-Signature"], sub["secret"])


def test_a_receiver_answering_4xx_fails_without_retries(
        client: TestClient, runtime: Runtime, admin: Account, make_incident: Any) -> None:
    with receiver([410]) as (_got, url):
        sub = client.post("/api/v1/webhooks", headers=admin.headers,
                          json={"name": "t", "url": url,
                                "event_types": ["incident.declared"]}).json()
        make_incident()
        assert deliver(runtime) == 1
        assert deliver(runtime) == 0
    log = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries",
                     headers=admin.headers).json()["items"]
    assert [d["status"] for d in log] == ["failed"] and log[0]["response_status"] == 410


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd",
                                 "http://127.0.0.1:9/x", "http://10.1.2.3/x",
                                 "http://169.254.169.254/latest/meta-data"])
def test_ssrf_guard_refuses_non_http_and_internal_receivers(
        client: TestClient, admin: Account, make_settings: Any, database_url: str,
        clock: FrozenClock, url: str) -> None:
    from tocsin.app import create_app
    from tocsin.wiring import build_runtime

    rt = build_runtime(make_settings(database_url=database_url, outbound_allow=[]), clock)
    try:
        with TestClient(create_app(rt), raise_server_exceptions=False) as strict:
            r = strict.post("/api/v1/webhooks", headers=admin.headers,
                            json={"name": "x", "url": url})
            assert r.status_code == 422, r.text
    finally:
        rt.close()


def test_only_admins_manage_subscriptions(client: TestClient, responder: Account) -> None:
    assert client.get("/api/v1/webhooks", headers=responder.headers).status_code == 403
    assert client.post("/api/v1/webhooks", headers=responder.headers,
                       json={"name": "x", "url": "https://example.com/"}).status_code == 403
