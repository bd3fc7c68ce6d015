"""Check pages: the list (filters, search, next page), a check's detail with per-location
status, uptime, the response-time chart and its incident; viewers read but cannot write."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.checks import recording, rollup
from tocsin.checks.recording import Observation
from tocsin.runtime import Runtime


def make_service(client: TestClient, admin: Account, name: str = "checkout") -> int:
    r = client.post("/api/v1/services", json={"name": name, "tier": "critical"},
                    headers=admin.headers)
    assert r.status_code == 201, r.text
    service_id: int = r.json()["id"]
    return service_id


def make_check(client: TestClient, admin: Account, service_id: int, name: str,
               **overrides: Any) -> int:
    body: dict[str, Any] = {"name": name, "kind": "http", "service_id": service_id,
                            "config": {"url": f"https://{name}.example.com/health"}}
    body.update(overrides)
    r = client.post("/api/v1/checks", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    check_id: int = r.json()["id"]
    return check_id


def observe(runtime: Runtime, check_id: int, *, ok: bool, location: str = "server",
            minutes_ago: int = 0, latency_ms: int | None = 120) -> None:
    now = runtime.clock.now()
    with runtime.sessions() as session, session.begin():
        recording.record(session, [Observation(check_id, location,
                                               now - timedelta(minutes=minutes_ago), ok,
                                               latency_ms, None if ok else "HTTP 503")],
                         now=now, settings=runtime.settings)
        # Roll up the result's own hour, as the worker did back then.
        rollup.roll_up(session, now=now - timedelta(minutes=minutes_ago))


def test_list_shows_each_check_with_badges_and_uptime(client: TestClient, admin: Account,
                                                      runtime: Runtime) -> None:
    service = make_service(client, admin)
    api = make_check(client, admin, service, "api", locations=["server", "eu"])
    make_check(client, admin, service, "web")
    observe(runtime, api, ok=True, minutes_ago=2)
    observe(runtime, api, ok=False, minutes_ago=1)
    web_login(client, admin)
    page = client.get("/checks")
    assert page.status_code == 200
    assert page.text.count('class="check-row"') == 2
    assert "GET https://api.example.com/health" in page.text
    assert 'class="loc loc-down" title="server: down"' in page.text
    assert 'title="eu: unknown"' in page.text
    assert "50.00 %" in page.text  # one of two results ok in the last 24 h
    assert "checkout" in page.text


def test_filters_search_and_next_page(client: TestClient, admin: Account,
                                      runtime: Runtime) -> None:
    service = make_service(client, admin)
    other = make_service(client, admin, "billing")
    for i in range(55):
        make_check(client, admin, service, f"c{i:02d}")
    make_check(client, admin, other, "bill-dns", kind="dns",
               config={"name": "billing.example.com", "resolver": "127.0.0.1"})
    web_login(client, admin)
    first = client.get("/checks")
    assert first.text.count('class="check-row"') == 50
    nxt = first.text.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    second = client.get(nxt.replace("&amp;", "&"))
    assert second.text.count('class="check-row"') == 6 and "bill-dns" in first.text  # name order
    assert 'rel="next"' not in second.text
    by_kind = client.get("/checks?kind=dns").text
    assert by_kind.count('class="check-row"') == 1
    assert '<option value="dns" selected>' in by_kind  # the filter shows what was chosen
    by_service = client.get(f"/checks?service={other}").text
    assert by_service.count('class="check-row"') == 1
    assert f'<option value="{other}" selected>' in by_service
    found = client.get("/checks?q=BILLING.example")  # target search, any case
    assert found.text.count('class="check-row"') == 1 and "bill-dns" in found.text
    assert client.get("/checks?status=down").text.count('class="check-row"') == 0
    assert client.get("/checks?cursor=garbage").status_code == 422


def test_detail_shows_locations_uptime_chart_results_and_incident(
        client: TestClient, admin: Account, runtime: Runtime) -> None:
    service = make_service(client, admin)
    check = make_check(client, admin, service, "api")
    for minutes, latency in ((150, 100), (90, 300), (30, 200)):
        observe(runtime, check, ok=True, minutes_ago=minutes, latency_ms=latency)
    observe(runtime, check, ok=False, minutes_ago=0, latency_ms=None)
    web_login(client, admin)
    page = client.get(f"/checks/{check}")
    assert page.status_code == 200
    assert "75.000 %" in page.text  # 3 of 4 over 24 h (hourly rollups)
    assert '<svg class="chart"' in page.text and 'class="series-p50" d="M' in page.text
    assert "HTTP 503" in page.text  # latest results and the location's reason
    assert 'class="loc loc-down">down</span>' in page.text
    assert "INC-1" in page.text  # the confirmed outage opened an incident
    week = client.get(f"/checks/{check}?range=7d")
    assert week.status_code == 200 and 'aria-current="page">7d' in week.text


def test_offline_probe_is_shown_as_out_of_the_quorum(client: TestClient, admin: Account,
                                                     runtime: Runtime) -> None:
    service = make_service(client, admin)
    r = client.post("/api/v1/probes", json={"name": "eu"}, headers=admin.headers)
    assert r.status_code == 201  # registered, never seen: offline
    check = make_check(client, admin, service, "api", locations=["server", "eu"])
    web_login(client, admin)
    assert 'class="loc loc-offline">offline</span>' in client.get(f"/checks/{check}").text
    assert 'title="eu: offline"' in client.get("/checks").text


def test_viewer_reads_but_cannot_change(client: TestClient, admin: Account, viewer: Account,
                                        runtime: Runtime) -> None:
    service = make_service(client, admin)
    check = make_check(client, admin, service, "api")
    csrf = web_login(client, viewer)
    assert client.get("/checks").status_code == 200
    page = client.get(f"/checks/{check}")
    assert page.status_code == 200 and "Delete this check" not in page.text
    assert "New check" not in client.get("/checks").text
    for path in ("/checks/new", f"/checks/{check}/edit", "/checks/import"):
        assert client.get(path).status_code == 403, path
    for path in ("/checks/new", f"/checks/{check}/edit", f"/checks/{check}/pause",
                 f"/checks/{check}/delete", "/checks/import"):
        assert client.post(path, data={"csrf_token": csrf, "name": "x"}).status_code == 403
    assert client.get(f"/api/v1/checks/{check}", headers=admin.headers).json()["enabled"]


def test_unknown_check_is_a_not_found_page(client: TestClient, admin: Account) -> None:
    web_login(client, admin)
    assert client.get("/checks/999").status_code == 404
    assert client.get("/checks/abc").status_code == 404
