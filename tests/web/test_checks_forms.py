"""Check forms: create each kind, the API's messages beside their fields with typed values
kept, edit, pause, resume, delete; and every settings field is one the API knows."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tests.web.test_checks_pages import make_check, make_service
from tocsin.checks.models import CheckKind
from tocsin.checks.schemas import CONFIG_MODELS
from tocsin.web.check_forms import CONFIG_FIELDS


def _checks(client: TestClient, admin: Account) -> dict[str, dict[str, Any]]:
    items = client.get("/api/v1/checks", headers=admin.headers).json()["items"]
    return {c["name"]: c for c in items}


def test_every_form_field_is_an_api_setting() -> None:
    for kind, fields in CONFIG_FIELDS.items():
        known = CONFIG_MODELS[CheckKind(kind)].model_fields
        assert {f.name for f in fields} <= set(known), kind


def test_create_http_check_through_the_form(client: TestClient, admin: Account) -> None:
    service = make_service(client, admin)
    csrf = web_login(client, admin)
    assert "New http check" in client.get("/checks/new?kind=http").text
    r = client.post("/checks/new", data={
        "csrf_token": csrf, "kind": "http", "name": "api health", "service_id": str(service),
        "config.url": "https://api.example.com/health", "config.method": "GET",
        "config.expected_status": "200, 204", "config.headers": "Authorization: Bearer s3cret",
        "config.json_path": "$.status", "config.json_equals": '"ok"',
        "config.follow_redirects": "on", "interval_seconds": "30", "timeout_seconds": "5",
        "locations": "server, eu", "confirm_failures": "2", "confirm_locations": "",
        "enabled": "on"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    made = _checks(client, admin)["api health"]
    assert made["config"]["expected_status"] == [200, 204]
    assert made["config"]["headers"] == {"Authorization": "Bearer s3cret"}
    assert made["config"]["json_equals"] == "ok" and made["config"]["verify_tls"] is False
    assert made["locations"] == ["server", "eu"] and made["confirm_failures"] == 2
    page = client.get(r.headers["location"])
    assert "s3cret" not in page.text  # header values are not shown


def test_api_messages_appear_beside_their_fields(client: TestClient, admin: Account) -> None:
    service = make_service(client, admin)
    make_check(client, admin, service, "taken")
    csrf = web_login(client, admin)
    base = {"csrf_token": csrf, "kind": "http", "service_id": str(service), "locations": "server"}
    r = client.post("/checks/new", data={**base, "name": "bad", "config.url": "ftp://x",
                                         "interval_seconds": "5", "timeout_seconds": "1"})
    assert r.status_code == 422
    assert 'id="config.url-error"' in r.text and "is not an http:// or https:// URL" in r.text
    assert 'value="ftp://x"' in r.text  # typed value kept
    r = client.post("/checks/new", data={**base, "name": "bad", "config.url": "https://x.test",
                                         "interval_seconds": "5", "timeout_seconds": "1"})
    assert 'id="interval_seconds-error"' in r.text and "below the floor of 10 seconds" in r.text
    r = client.post("/checks/new", data={**base, "name": "bad", "config.url": "https://x.test",
                                         "interval_seconds": "30", "timeout_seconds": "30"})
    assert 'id="timeout_seconds-error"' in r.text and "must be shorter than" in r.text
    r = client.post("/checks/new", data={**base, "name": "taken", "config.url": "https://x.test",
                                         "interval_seconds": "30", "timeout_seconds": "5"})
    assert r.status_code == 409 and 'id="name-error"' in r.text
    r = client.post("/checks/new", data={**base, "kind": "dns", "name": "d",
                                         "config.name": "example.com",
                                         "config.record_type": "BOGUS",
                                         "config.resolver": "not-an-ip",
                                         "interval_seconds": "30", "timeout_seconds": "5"})
    assert "unknown record type &#39;BOGUS&#39;" in r.text and 'id="config.resolver-error"' in r.text
    r = client.post("/checks/new", data={**base, "kind": "tcp", "name": "t", "service_id": "",
                                         "config.host": "db.internal", "config.port": "abc",
                                         "interval_seconds": "30", "timeout_seconds": "5"})
    assert 'id="service_id-error"' in r.text
    assert set(_checks(client, admin)) == {"taken"}  # nothing half-saved


def test_edit_pause_resume_delete(client: TestClient, admin: Account) -> None:
    service = make_service(client, admin)
    check = make_check(client, admin, service, "db", kind="tcp",
                       config={"host": "db.internal", "port": 5432})
    csrf = web_login(client, admin)
    form = client.get(f"/checks/{check}/edit").text
    assert 'value="db.internal"' in form and 'value="5432"' in form
    r = client.post(f"/checks/{check}/edit", data={
        "csrf_token": csrf, "name": "db primary", "service_id": str(service),
        "config.host": "db1.internal", "config.port": "6432", "interval_seconds": "60",
        "timeout_seconds": "3", "locations": "server", "confirm_failures": "1"},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    made = _checks(client, admin)["db primary"]
    assert made["config"] == {"host": "db1.internal", "port": 6432}
    assert made["timeout_seconds"] == 3
    r = client.post(f"/checks/{check}/edit", data={
        "csrf_token": csrf, "name": "db primary", "service_id": str(service),
        "config.host": "db1.internal", "config.port": "70000", "interval_seconds": "60",
        "timeout_seconds": "3", "locations": "server", "confirm_failures": "1"})
    assert r.status_code == 422 and 'id="config.port-error"' in r.text
    client.post(f"/checks/{check}/pause", data={"csrf_token": csrf})
    assert _checks(client, admin)["db primary"]["status"] == "paused"
    assert "Resume" in client.get(f"/checks/{check}").text
    client.post(f"/checks/{check}/resume", data={"csrf_token": csrf})
    assert _checks(client, admin)["db primary"]["status"] == "unknown"
    r = client.post(f"/checks/{check}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and _checks(client, admin) == {}


def test_kind_chooser_and_a_form_without_csrf(client: TestClient, admin: Account) -> None:
    service = make_service(client, admin)
    web_login(client, admin)
    chooser = client.get("/checks/new").text
    for kind in ("http", "tls", "dns", "tcp", "postgres"):
        assert f'href="/checks/new?kind={kind}"' in chooser
    r = client.post("/checks/new", data={"kind": "tcp", "name": "x", "service_id": str(service),
                                         "config.host": "h", "config.port": "1"})
    assert r.status_code == 403 and _checks(client, admin) == {}
