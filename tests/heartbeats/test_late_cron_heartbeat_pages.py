"""Must show: a late cron heartbeat pages. Cron job silent past its 03:00 Paris run + grace →
the worker marks it late → one alert → one incident → escalation writes a page, delivered to
the on-call's webhook on loopback. A later ping resolves the alert."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.heartbeats.conftest import ping_path
from tocsin.alerts.models import Alert
from tocsin.clock import FrozenClock
from tocsin.engine.worker import Worker
from tocsin.heartbeats.models import Heartbeat
from tocsin.incidents.models import Incident
from tocsin.jobs import JOBS, TIMER_HANDLERS
from tocsin.notify.models import ContactMethod
from tocsin.runtime import Runtime


class Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            self.received.append(json.loads(body))
        except ValueError:
            self.received.append({"raw": body.decode(errors="replace")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", Receiver.received
    server.shutdown()
    server.server_close()


def on_call_via_webhook(client: TestClient, admin: Account, runtime: Runtime, user: Account,
                        service_id: int, url: str) -> None:
    r = client.post(f"/api/v1/users/{user.id}/contact-methods",
                    json={"kind": "webhook", "address": url}, headers=admin.headers)
    assert r.status_code == 201, r.text
    method_id = r.json()["id"]
    with runtime.sessions() as s:
        code = s.get(ContactMethod, method_id).verify_code  # type: ignore[union-attr]
    assert client.post(f"/api/v1/contact-methods/{method_id}/verify", json={"code": code},
                       headers=admin.headers).status_code == 200
    r = client.put(f"/api/v1/users/{user.id}/notification-rules",
                   json={"rules": [{"urgency": u, "delay_minutes": 0,
                                    "contact_method_id": method_id} for u in ("high", "low")]},
                   headers=admin.headers)
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/escalation-policies", json={
        "name": "billing on-call", "levels": [
            {"delay_minutes": 5, "targets": [{"kind": "user", "id": user.id}]}]},
        headers=admin.headers)
    assert r.status_code == 201, r.text
    policy = r.json()["id"]
    r = client.put(f"/api/v1/services/{service_id}/escalation-policies",
                   json={"policies": {s: policy for s in ("SEV1", "SEV2", "SEV3", "SEV4")}},
                   headers=admin.headers)
    assert r.status_code == 200, r.text


def test_late_cron_heartbeat_raises_alert_incident_and_page(
        client: TestClient, admin: Account, responder: Account, runtime: Runtime,
        clock: FrozenClock, service_id: int,
        webhook: tuple[str, list[dict[str, object]]]) -> None:
    url, received = webhook
    on_call_via_webhook(client, admin, runtime, responder, service_id, url)

    def cycle() -> None:
        # A fresh worker each time: jobs that run "every N seconds" count real seconds, and
        # with a frozen clock none pass; a new worker runs every job once, as after N seconds.
        Worker(runtime=runtime, jobs=JOBS, handlers=TIMER_HANDLERS).run_cycle()

    r = client.post("/api/v1/heartbeats", json={
        "name": "nightly invoices", "service_id": service_id, "cron": "0 3 * * *",
        "time_zone": "Europe/Paris", "grace_seconds": 900}, headers=admin.headers)
    assert r.status_code == 201, r.text
    hb = r.json()

    # Tuesday 03:00 Paris (02:00 UTC) the job runs and pings.
    clock.set(datetime(2026, 1, 6, 2, 0, 5, tzinfo=UTC))
    assert client.get(ping_path(hb)).status_code == 200
    cycle()
    received.clear()  # the verification message

    # Wednesday 03:14 Paris: still inside the grace time, nothing happens.
    clock.set(datetime(2026, 1, 7, 2, 14, tzinfo=UTC))
    cycle()
    with runtime.sessions() as s:
        assert s.get(Heartbeat, hb["id"]).status == "up"  # type: ignore[union-attr]
        assert s.scalars(select(Alert)).all() == []

    # 03:15:01 Paris: the 03:00 run never pinged; the worker notices.
    clock.set(datetime(2026, 1, 7, 2, 15, 1, tzinfo=UTC))
    cycle()
    cycle()
    with runtime.sessions() as s:
        beat = s.get(Heartbeat, hb["id"])
        assert beat is not None and beat.status == "late"
        alert = s.scalars(select(Alert)).one()
        assert alert.source == f"heartbeat:{hb['id']}" and "late" in alert.summary
        incident = s.get(Incident, alert.incident_id)
        assert incident is not None and incident.status == "triggered"
        incident_id = incident.id
    pages = client.get(f"/api/v1/incidents/{incident_id}/pages", headers=admin.headers).json()
    assert [p["user_id"] for p in pages if p["kind"] == "page"] == [responder.id]
    assert any(p["status"] == "sent" for p in pages), pages
    assert received and "nightly invoices" in json.dumps(received)

    # The worker checking again raises nothing new.
    clock.advance(timedelta(minutes=1))
    cycle()
    with runtime.sessions() as s:
        assert len(s.scalars(select(Alert)).all()) == 1
        assert len(s.scalars(select(Incident)).all()) == 1

    # The job runs late and pings: back up, the alert resolves.
    assert client.get(ping_path(hb)).status_code == 200
    with runtime.sessions() as s:
        assert s.scalars(select(Alert)).one().status == "resolved"
