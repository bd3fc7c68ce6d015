"""Heartbeat pages: list and detail (ping URL, curl examples, pings with body and run time),
create with the API's messages beside their fields, edit, pause, resume, delete; viewers
read only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tests.web.test_checks_pages import make_service
from tocsin.clock import FrozenClock


def _beats(client: TestClient, admin: Account) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in client.get("/api/v1/heartbeats", headers=admin.headers).json()["items"]}


def _form(csrf: str, service: int, **values: str) -> dict[str, str]:
    base = {"csrf_token": csrf, "name": "nightly backup", "service_id": str(service),
            "period_seconds": "", "cron": "0 3 * * *", "time_zone": "Europe/Paris",
            "grace_seconds": "600"}
    base.update(values)
    return base


def test_create_ping_and_see_the_run(client: TestClient, admin: Account,
                                     clock: FrozenClock) -> None:
    service = make_service(client, admin)
    csrf = web_login(client, admin)
    assert client.get("/heartbeats/new").status_code == 200
    r = client.post("/heartbeats/new", data=_form(csrf, service), follow_redirects=False)
    assert r.status_code == 303, r.text
    made = _beats(client, admin)["nightly backup"]
    key = made["ping_url"].rsplit("/", 1)[1]
    assert client.post(f"/ping/{key}/start").status_code == 200
    clock.advance(timedelta(seconds=42))
    assert client.post(f"/ping/{key}", content=b"backup done: 3 GB").status_code == 200
    page = client.get(r.headers["location"])
    assert made["ping_url"] in page.text and 'data-copy="#ping-url"' in page.text
    assert f"{made['ping_url']}/start" in page.text and f"{made['ping_url']}/fail" in page.text
    assert "backup done: 3 GB" in page.text and "42.0 s" in page.text
    assert "<code>0 3 * * *</code> (Europe/Paris)" in page.text
    listing = client.get("/heartbeats")
    assert 'class="heartbeat-row"' in listing.text and "status-up" in listing.text


def test_bad_schedules_get_messages_beside_their_fields(client: TestClient,
                                                        admin: Account) -> None:
    service = make_service(client, admin)
    csrf = web_login(client, admin)
    r = client.post("/heartbeats/new", data=_form(csrf, service, cron="every day"))
    assert r.status_code == 422 and 'id="cron-error"' in r.text
    assert "is not a cron expression" in r.text and 'value="every day"' in r.text
    r = client.post("/heartbeats/new", data=_form(csrf, service, time_zone="Mars/Olympus"))
    assert 'id="time_zone-error"' in r.text and "unknown time zone" in r.text
    r = client.post("/heartbeats/new", data=_form(csrf, service, cron="", period_seconds="5"))
    assert 'id="period_seconds-error"' in r.text and "below the floor" in r.text
    r = client.post("/heartbeats/new", data=_form(csrf, service, period_seconds="60"))
    assert "give either period_seconds or cron" in r.text
    r = client.post("/heartbeats/new", data=_form(csrf, service, grace_seconds="-1"))
    assert 'id="grace_seconds-error"' in r.text
    assert _beats(client, admin) == {}


def test_edit_pause_resume_delete(client: TestClient, admin: Account) -> None:
    service = make_service(client, admin)
    csrf = web_login(client, admin)
    client.post("/heartbeats/new", data=_form(csrf, service))
    hb = _beats(client, admin)["nightly backup"]["id"]
    assert 'value="0 3 * * *"' in client.get(f"/heartbeats/{hb}/edit").text
    r = client.post(f"/heartbeats/{hb}/edit", data=_form(csrf, service, cron="",
                                                         period_seconds="3600"),
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    made = _beats(client, admin)["nightly backup"]
    assert made["period_seconds"] == 3600 and made["cron"] is None
    client.post(f"/heartbeats/{hb}/pause", data={"csrf_token": csrf})
    assert _beats(client, admin)["nightly backup"]["status"] == "paused"
    client.post(f"/heartbeats/{hb}/resume", data={"csrf_token": csrf})
    assert _beats(client, admin)["nightly backup"]["status"] == "new"
    client.post(f"/heartbeats/{hb}/delete", data={"csrf_token": csrf})
    assert _beats(client, admin) == {}


def test_viewer_reads_but_cannot_change(client: TestClient, admin: Account,
                                        viewer: Account) -> None:
    service = make_service(client, admin)
    r = client.post("/api/v1/heartbeats", json={"name": "job", "service_id": service,
                                                "period_seconds": 60}, headers=admin.headers)
    hb = r.json()["id"]
    csrf = web_login(client, viewer)
    page = client.get(f"/heartbeats/{hb}")
    assert page.status_code == 200 and "Delete this heartbeat" not in page.text
    assert "New heartbeat" not in client.get("/heartbeats").text
    for path in ("/heartbeats/new", f"/heartbeats/{hb}/edit"):
        assert client.get(path).status_code == 403
    for path in ("/heartbeats/new", f"/heartbeats/{hb}/edit", f"/heartbeats/{hb}/pause",
                 f"/heartbeats/{hb}/delete"):
        assert client.post(path, data=_form(csrf, service)).status_code == 403, path
    assert set(_beats(client, admin)) == {"job"}


def test_list_pages_on(client: TestClient, admin: Account) -> None:
    service = make_service(client, admin)
    for i in range(52):
        r = client.post("/api/v1/heartbeats", json={"name": f"job-{i:02d}", "service_id": service,
                                                    "period_seconds": 60}, headers=admin.headers)
        assert r.status_code == 201
    web_login(client, admin)
    first = client.get("/heartbeats")
    assert first.text.count('class="heartbeat-row"') == 50 and "job-49" in first.text
    nxt = first.text.split('" rel="next"', 1)[0].rsplit('href="', 1)[1]
    second = client.get(nxt)
    assert second.text.count('class="heartbeat-row"') == 2 and "job-51" in second.text
    assert 'rel="next"' not in second.text
