"""Idempotency-Key on creating POSTs; cursor pagination and filters on the incident list."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock


def test_retried_create_with_same_key_creates_once(client: TestClient,
                                                   responder: Account) -> None:
    headers = {**responder.headers, "Idempotency-Key": "declare-1"}
    body = {"title": "DB failover", "severity": "SEV2"}
    first = client.post("/api/v1/incidents", json=body, headers=headers)
    again = client.post("/api/v1/incidents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(client.get("/api/v1/incidents", headers=responder.headers).json()["items"]) == 1


def test_same_key_different_body_is_refused(client: TestClient, responder: Account) -> None:
    headers = {**responder.headers, "Idempotency-Key": "k"}
    client.post("/api/v1/incidents", json={"title": "a"}, headers=headers)
    r = client.post("/api/v1/incidents", json={"title": "b"}, headers=headers)
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]


def test_cursor_pagination_walks_everything_once(client: TestClient, responder: Account,
                                                 make_incident: Any) -> None:
    ids = [make_incident(title=f"i{n}")["id"] for n in range(7)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/incidents", params=params, headers=responder.headers).json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True) and pages == 3


def test_bad_cursor_is_a_clear_error(client: TestClient, responder: Account) -> None:
    r = client.get("/api/v1/incidents", params={"cursor": "!!nope"}, headers=responder.headers)
    assert r.status_code == 422 and "cursor" in r.json()["detail"]


def test_filters(client: TestClient, clock: FrozenClock, admin: Account, responder: Account,
                 make_incident: Any) -> None:
    svc = client.post("/api/v1/services", json={"name": "payments", "tier": "critical"},
                      headers=admin.headers).json()
    start = clock.now()
    a = make_incident(severity="SEV1", service_ids=[svc["id"]])
    clock.advance(hours=1)
    b = make_incident(severity="SEV3")
    client.post(f"/api/v1/incidents/{b['id']}/resolve", json={}, headers=responder.headers)

    def ids(**params: Any) -> list[int]:
        r = client.get("/api/v1/incidents", params=params, headers=responder.headers)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids(severity="SEV1") == [a["id"]]
    assert ids(status="resolved") == [b["id"]]
    assert ids(open="true") == [a["id"]]
    assert ids(service_id=svc["id"]) == [a["id"]]
    assert ids(created_after=(start + timedelta(minutes=30)).isoformat()) == [b["id"]]
    assert ids(created_before=(start + timedelta(minutes=30)).isoformat()) == [a["id"]]
    r = client.get("/api/v1/incidents", params={"severity": "SEV7"}, headers=responder.headers)
    assert r.status_code == 422 and "severity" in r.json()["detail"]
