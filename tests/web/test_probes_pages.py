"""Probe pages: the list (status, last contact, checks assigned), registering a probe with
its token shown once beside the agent's command, names refused with a message, revoking;
viewers and responders read only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.web.conftest import web_login
from tests.web.test_checks_pages import make_service
from tocsin.alerts.models import Alert
from tocsin.checks import probes
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime

TOKEN_RE = re.compile(r"tprobe_[A-Za-z0-9_-]+")


def register(client: TestClient, csrf: str, name: str) -> str:
    """Register through the page; returns the token it shows."""
    r = client.post("/probes", data={"csrf_token": csrf, "name": name})
    assert r.status_code == 200, r.text
    found = TOKEN_RE.search(r.text)
    assert found, r.text
    return found.group(0)


def test_register_shows_the_token_once_with_the_command(client: TestClient, admin: Account,
                                                        runtime: Runtime) -> None:
    csrf = web_login(client, admin)
    assert "No probes yet" in client.get("/probes").text
    r = client.post("/probes", data={"csrf_token": csrf, "name": "eu-west"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    token = TOKEN_RE.search(r.text)
    assert token and "shown only once" in r.text
    server = runtime.settings.public_url
    assert (f"tocsin probe --server {server} --token {token.group(0)} --location eu-west"
            in r.text)
    assert 'data-copy="#probe-command"' in r.text
    # The token works for the agent, and no page shows it again.
    pulled = client.get("/api/v1/probe/assignments",
                        headers={"Authorization": f"Bearer {token.group(0)}"})
    assert pulled.status_code == 200 and pulled.json() == []
    listing = client.get("/probes")
    assert token.group(0) not in listing.text and "tprobe_" not in listing.text
    assert 'class="probe-row"' in listing.text and "eu-west" in listing.text


def test_list_shows_status_last_contact_and_checks_assigned(client: TestClient,
                                                             admin: Account) -> None:
    service = make_service(client, admin)
    csrf = web_login(client, admin)
    token = register(client, csrf, "eu-west")
    register(client, csrf, "us-east")
    for n, locations in enumerate((["server", "eu-west"], ["eu-west"], ["us-east"])):
        r = client.post("/api/v1/checks", headers=admin.headers, json={
            "name": f"c{n}", "kind": "tcp", "service_id": service, "locations": locations,
            "interval_seconds": 60, "timeout_seconds": 5,
            "config": {"host": "127.0.0.1", "port": 9}})
        assert r.status_code == 201, r.text
    client.get("/api/v1/probe/assignments", headers={"Authorization": f"Bearer {token}"})
    rows = {row.split('data-label="Location">')[1].split("<")[0]: row
            for row in client.get("/probes").text.split('<tr class="probe-row">')[1:]}
    assert "status-online" in rows["eu-west"] and "ago" in rows["eu-west"]
    assert 'data-label="Checks assigned">2<' in rows["eu-west"]
    assert "status-offline" in rows["us-east"] and ">never<" in rows["us-east"]
    assert 'data-label="Checks assigned">1<' in rows["us-east"]


def test_bad_and_taken_names_get_a_message_beside_the_field(client: TestClient,
                                                            admin: Account) -> None:
    csrf = web_login(client, admin)
    register(client, csrf, "eu-west")
    cases = [("EU West!", 422, "lower-case letters"), ("", 422, "this is required"),
             ("server", 422, "the server&#39;s own location"),
             ("eu-west", 409, "already exists")]
    for name, status, message in cases:
        r = client.post("/probes", data={"csrf_token": csrf, "name": name})
        assert r.status_code == status, (name, r.text)
        assert 'id="name-error"' in r.text and message in r.text, name
        assert "tprobe_" not in r.text


def test_delete_revokes_the_token(client: TestClient, admin: Account) -> None:
    csrf = web_login(client, admin)
    token = register(client, csrf, "eu-west")
    probe_id = client.get("/api/v1/probes", headers=admin.headers).json()["items"][0]["id"]
    r = client.post(f"/probes/{probe_id}/delete", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/probes"
    page = client.get("/probes")
    assert "Probe eu-west deleted" in page.text and 'class="probe-row"' not in page.text
    pulled = client.get("/api/v1/probe/assignments",
                        headers={"Authorization": f"Bearer {token}"})
    assert pulled.status_code == 401
    assert client.post(f"/probes/{probe_id}/delete",
                       data={"csrf_token": csrf}).status_code == 404


def test_viewers_and_responders_read_but_cannot_register_or_delete(
        client: TestClient, admin: Account, viewer: Account, responder: Account) -> None:
    created = client.post("/api/v1/probes", json={"name": "eu-west"}, headers=admin.headers)
    probe_id = created.json()["id"]
    for account in (viewer, responder):
        csrf = web_login(client, account)
        page = client.get("/probes")
        assert page.status_code == 200 and "eu-west" in page.text
        assert "Register a probe" not in page.text and "/delete" not in page.text
        r = client.post("/probes", data={"csrf_token": csrf, "name": "us-east"})
        assert r.status_code == 403 and "tprobe_" not in r.text
        assert client.post(f"/probes/{probe_id}/delete",
                           data={"csrf_token": csrf}).status_code == 403
        client.post("/logout", data={"csrf_token": csrf})
    names = [p["name"] for p in client.get("/api/v1/probes", headers=admin.headers).json()["items"]]
    assert names == ["eu-west"]


def test_probes_tab_sits_next_to_checks_and_heartbeats(client: TestClient,
                                                       viewer: Account) -> None:
    web_login(client, viewer)
    for path in ("/checks", "/heartbeats", "/probes"):
        page = client.get(path).text
        assert '<a href="/probes"' in page, path
    assert '<a href="/probes" aria-current="page">' in client.get("/probes").text


def test_deleting_a_silent_probe_resolves_its_alert_and_drops_it_from_the_quorum(
        client: TestClient, admin: Account, runtime: Runtime, clock: FrozenClock) -> None:
    service = make_service(client, admin)
    csrf = web_login(client, admin)
    token = register(client, csrf, "eu-west")
    agent = {"Authorization": f"Bearer {token}"}
    check = client.post("/api/v1/checks", headers=admin.headers, json={
        "name": "shop", "kind": "tcp", "service_id": service, "locations": ["eu-west"],
        "interval_seconds": 60, "timeout_seconds": 5,
        "config": {"host": "127.0.0.1", "port": 9}}).json()
    client.get("/api/v1/probe/assignments", headers=agent)
    r = client.post("/api/v1/probe/results", headers=agent, json={"results": [
        {"check_id": check["id"], "at": clock.now().isoformat(), "ok": False,
         "reason": "connection refused"}]})
    assert r.status_code == 200 and r.json()["accepted"] == 1
    clock.advance(seconds=runtime.settings.probe_offline_seconds + 1)
    with runtime.sessions() as s, s.begin():
        assert probes.mark_silent_offline(s, now=clock.now(), settings=runtime.settings) == [
            "eu-west"]
    assert alert_status(runtime, "probe:eu-west") == "firing"

    probe_id = client.get("/api/v1/probes", headers=admin.headers).json()["items"][0]["id"]
    r = client.post(f"/probes/{probe_id}/delete", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert alert_status(runtime, "probe:eu-west") == "resolved"
    detail = client.get(f"/api/v1/checks/{check['id']}", headers=admin.headers).json()
    assert detail["per_location"] == []


def alert_status(runtime: Runtime, source: str) -> str:
    with runtime.sessions() as s:
        return s.scalars(select(Alert.status).where(Alert.source == source)).one()
