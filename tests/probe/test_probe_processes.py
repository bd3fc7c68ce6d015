"""Must show: probe agents as separate processes on loopback.

- an outage seen by 2 of 3 probes raises one alert and one incident (and recovery resolves);
- one probe killed raises "probe offline" and no false incident for the checks it ran.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from subprocess import Popen
from typing import Any

import pytest
from sqlalchemy import select

from tests.checks import servers
from tests.conftest import STARTUP_SECONDS
from tests.probe.conftest import LiveServer, wait_for
from tocsin.alerts.models import Alert
from tocsin.catalog.models import Service
from tocsin.engine.worker import Worker
from tocsin.incidents.models import Incident
from tocsin.jobs import JOBS, TIMER_HANDLERS

pytestmark = pytest.mark.slow
SOURCES = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}
WAIT = 30.0  # seconds: a deadline for a condition on a loaded machine, not a timing assertion


@pytest.fixture
def target() -> Iterator[servers.LoopbackServer]:
    with servers.serve() as s:
        yield s


def setup_check(live: LiveServer, url: str) -> dict[str, Any]:
    with live.api() as api:
        service = api.post("/api/v1/services", json={"name": "storefront",
                                                     "tier": "critical"}).json()
        r = api.post("/api/v1/checks", json={
            "name": "storefront home", "kind": "http", "service_id": service["id"],
            "interval_seconds": 1, "timeout_seconds": 0.8, "config": {"url": url},
            "locations": ["a", "b", "c"], "confirm_failures": 2})
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out


def check_detail(live: LiveServer, check_id: int) -> dict[str, Any]:
    with live.api() as api:
        out: dict[str, Any] = api.get(f"/api/v1/checks/{check_id}").json()
        return out


def alerts(live: LiveServer) -> list[Alert]:
    with live.runtime.sessions() as s:
        return list(s.scalars(select(Alert)))


def incidents(live: LiveServer) -> list[Incident]:
    with live.runtime.sessions() as s:
        return list(s.scalars(select(Incident)))


def all_reporting(live: LiveServer, check_id: int, ok: bool | None = None) -> Callable[[], bool]:
    def ready() -> bool:
        rows = check_detail(live, check_id)["per_location"]
        return len(rows) == 3 and all(ok is None or r["ok"] is ok or r["location"] == "c"
                                      for r in rows)
    return ready


def test_outage_seen_by_two_of_three_probes_raises_one_alert_and_one_incident(
        live_server: LiveServer, spawn_probe: Callable[..., Popen[bytes]],
        target: servers.LoopbackServer) -> None:
    check = setup_check(live_server, target.url("/by-source"))
    for name, source in SOURCES.items():
        spawn_probe(name, source)
    wait_for(lambda: check_detail(live_server, check["id"])["status"] == "up", STARTUP_SECONDS,
             "all probes to report the check up")
    wait_for(all_reporting(live_server, check["id"]), WAIT, "three locations")

    # Only a is failing at first: 1 of 3 is noise, not an outage.
    target.failing_sources = {SOURCES["a"]}
    wait_for(lambda: {r["location"]: r["ok"] for r in check_detail(
        live_server, check["id"])["per_location"]}["a"] is False, WAIT, "a's failing result")
    time.sleep(2)  # more of a's failures arrive
    detail = check_detail(live_server, check["id"])
    assert detail["status"] == "up"
    assert {r["location"]: r["ok"] for r in detail["per_location"]}["a"] is False
    assert alerts(live_server) == [] and incidents(live_server) == []

    # a and b fail, c still sees it up: 2 of 3 confirm.
    target.failing_sources = {SOURCES["a"], SOURCES["b"]}
    wait_for(lambda: check_detail(live_server, check["id"])["status"] == "down", WAIT,
             "the outage to be confirmed")
    time.sleep(3)  # more failing results keep arriving: still one alert, one incident
    found = alerts(live_server)
    assert len(found) == 1 and found[0].source == f"check:{check['id']}"
    assert found[0].details["failing"] == ["a", "b"] and found[0].details["passing"] == ["c"]
    assert len(incidents(live_server)) == 1 and found[0].incident_id == incidents(live_server)[0].id
    detail = check_detail(live_server, check["id"])
    assert "a: HTTP 503" in detail["status_reason"] and "b: HTTP 503" in detail["status_reason"]

    # Fixed: recovery is confirmed by 2 of 3 again and resolves the alert.
    target.failing_sources = set()
    wait_for(lambda: check_detail(live_server, check["id"])["status"] == "up", WAIT, "recovery")
    assert [a.status for a in alerts(live_server)] == ["resolved"]
    assert len(incidents(live_server)) == 1


def test_killed_probe_raises_probe_offline_and_no_false_incident(
        live_server: LiveServer, spawn_probe: Callable[..., Popen[bytes]],
        target: servers.LoopbackServer) -> None:
    check = setup_check(live_server, target.url("/by-source"))
    procs = {name: spawn_probe(name, source) for name, source in SOURCES.items()}
    wait_for(all_reporting(live_server, check["id"], ok=True), STARTUP_SECONDS,
             "all three probes up")
    worker = Worker(runtime=live_server.runtime, jobs=JOBS, handlers=TIMER_HANDLERS)

    # c is killed without warning, and the target now fails from c's address only — the
    # last thing c could have said is irrelevant: it is simply gone.
    procs["c"].send_signal(signal.SIGKILL)
    procs["c"].wait(30)
    target.failing_sources = {SOURCES["c"]}
    time.sleep(live_server.runtime.settings.probe_offline_seconds + 1.5)
    worker.run_cycle()

    with live_server.api() as api:
        states = {p["name"]: p["status"] for p in api.get("/api/v1/probes").json()["items"]}
    assert states == {"a": "online", "b": "online", "c": "offline"}
    found = alerts(live_server)
    assert [a.source for a in found] == ["probe:c"]
    assert "probe 'c' offline" in found[0].summary
    with live_server.runtime.sessions() as s:
        probe_service = s.scalars(select(Service).where(Service.name == "tocsin-probes")).one()
        assert found[0].service_id == probe_service.id
    # No incident for the storefront: its check is still up on the 2 live probes.
    storefront_incidents = [i for i in incidents(live_server)
                            if found[0].incident_id != i.id]
    assert storefront_incidents == []
    detail = check_detail(live_server, check["id"])
    assert detail["status"] == "up"
    assert {r["location"]: r["live"] for r in detail["per_location"]} == {
        "a": True, "b": True, "c": False}

    # Running the worker again raises nothing more.
    time.sleep(2)
    worker = Worker(runtime=live_server.runtime, jobs=JOBS, handlers=TIMER_HANDLERS)
    worker.run_cycle()
    assert len(alerts(live_server)) == 1
