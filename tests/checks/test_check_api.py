"""Managing checks over the API: validation with clear messages, roles, paging, details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import Account
from tocsin.checks.models import Check
from tocsin.runtime import Runtime


def body(service_id: int, **over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"name": "api", "kind": "http", "service_id": service_id,
                         "interval_seconds": 60, "timeout_seconds": 5,
                         "config": {"url": "https://example.com/health"}}
    b.update(over)
    return b


def count(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Check)) or 0)


def test_bad_input_is_refused_with_a_clear_message_and_nothing_stored(
        client: TestClient, admin: Account, service_id: int, runtime: Runtime) -> None:
    cases = [
        (body(service_id, config={"url": "not a url"}), "not an http:// or https:// URL"),
        (body(service_id, interval_seconds=5), "below the floor of 10 seconds"),
        (body(service_id, kind="dns", config={"name": "example.com", "record_type": "AXFRX",
                                              "resolver": "127.0.0.1"}),
         "unknown record type 'AXFRX'"),
        (body(service_id, kind="dns", config={"name": "example.com", "resolver": "dns.google"}),
         "resolver must be an IP address"),
        (body(service_id, kind="tcp", config={"host": "db", "port": 70000}), "config.port"),
        (body(service_id, kind="gopher"), "kind"),
        (body(service_id, timeout_seconds=60, interval_seconds=30), "must be shorter"),
        (body(service_id, config={"url": "https://x.test", "surprise": 1}), "surprise"),
        (body(service_id, locations=["a"], confirm_locations=2), "more than the 1"),
        (body(999), "no service with id 999"),
    ]
    for payload, message in cases:
        r = client.post("/api/v1/checks", json=payload, headers=admin.headers)
        assert r.status_code in (404, 422), (payload, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert message in r.json()["detail"], (message, r.json()["detail"])
    assert count(runtime) == 0


def test_roles_viewer_reads_admin_writes(client: TestClient, admin: Account, viewer: Account,
                                         service_id: int) -> None:
    assert client.post("/api/v1/checks", json=body(service_id),
                       headers=viewer.headers).status_code == 403
    created = client.post("/api/v1/checks", json=body(service_id), headers=admin.headers).json()
    assert created["status"] == "unknown" and created["locations"] == ["server"]
    assert created["config"]["method"] == "GET"  # defaults filled in and shown
    r = client.get(f"/api/v1/checks/{created['id']}", headers=viewer.headers)
    assert r.status_code == 200 and r.json()["per_location"] == []
    assert client.delete(f"/api/v1/checks/{created['id']}",
                         headers=viewer.headers).status_code == 403
    assert client.get("/api/v1/checks", headers={}).status_code == 401


def test_duplicate_name_conflicts(client: TestClient, admin: Account, service_id: int) -> None:
    assert client.post("/api/v1/checks", json=body(service_id),
                       headers=admin.headers).status_code == 201
    r = client.post("/api/v1/checks", json=body(service_id), headers=admin.headers)
    assert r.status_code == 409 and "already exists" in r.json()["detail"]


def test_list_pages_with_cursor_and_filters(client: TestClient, viewer: Account,
                                           make_check: Callable[..., dict[str, Any]]) -> None:
    ids = [make_check()["id"] for _ in range(5)]
    first = client.get("/api/v1/checks?limit=3", headers=viewer.headers).json()
    assert [c["id"] for c in first["items"]] == ids[:3] and first["next_cursor"]
    second = client.get(f"/api/v1/checks?limit=3&cursor={first['next_cursor']}",
                        headers=viewer.headers).json()
    assert [c["id"] for c in second["items"]] == ids[3:] and second["next_cursor"] is None
    down = client.get("/api/v1/checks?status=down", headers=viewer.headers).json()
    assert down["items"] == []


def test_update_pause_and_delete(client: TestClient, admin: Account,
                                 make_check: Callable[..., dict[str, Any]]) -> None:
    check = make_check()
    r = client.patch(f"/api/v1/checks/{check['id']}", json={"enabled": False},
                     headers=admin.headers)
    assert r.status_code == 200 and r.json()["status"] == "paused"
    r = client.patch(f"/api/v1/checks/{check['id']}", json={"interval_seconds": 3},
                     headers=admin.headers)
    assert r.status_code == 422 and "floor" in r.json()["detail"]
    r = client.patch(f"/api/v1/checks/{check['id']}",
                     json={"config": {"url": "http://127.0.0.1:1/x", "keyword": "ok"}},
                     headers=admin.headers)
    assert r.status_code == 200 and r.json()["config"]["keyword"] == "ok"
    assert client.delete(f"/api/v1/checks/{check['id']}",
                         headers=admin.headers).status_code == 204
    assert client.get(f"/api/v1/checks/{check['id']}", headers=admin.headers).status_code == 404
