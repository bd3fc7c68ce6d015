"""Values the database cannot hold are refused where the request is read (422, problem+json,
nothing stored) rather than failing at the INSERT or WHERE with a 500: integers past the
column's range, `null` for a field that is NOT NULL, NUL characters (PostgreSQL cannot hold
them, so neither database takes them) and instants past year 9999 in UTC."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.api import pagination

# Past PostgreSQL's `integer`, past SQLite's 64-bit INTEGER, past both by far.
TOO_BIG = (2**31, 2**63, 36893488147419103233)


def refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["detail"], r.json()


def test_ids_past_the_columns_range_are_refused(client: TestClient, responder: Account,
                                                make_incident: Callable[..., Any]) -> None:
    make_incident()
    for n in TOO_BIG:
        refused(client.get(f"/api/v1/incidents/{n}", headers=responder.headers), "incident_id")
        refused(client.get("/api/v1/incidents", params={"service_id": n},
                           headers=responder.headers), "service_id")
        refused(client.post("/api/v1/incidents", headers=responder.headers, json={
            "title": "x", "service_ids": [n]}), "service_ids")
    cursor = pagination.encode(2**64)
    r = client.get("/api/v1/incidents", params={"cursor": cursor}, headers=responder.headers)
    assert r.status_code == 422 and "cursor" in r.json()["detail"], r.text
    assert len(client.get("/api/v1/incidents", headers=responder.headers).json()["items"]) == 1


def test_users_affected_past_the_columns_range_is_refused(
        client: TestClient, responder: Account, make_incident: Callable[..., Any]) -> None:
    incident = make_incident()
    for n in TOO_BIG:
        refused(client.patch(f"/api/v1/incidents/{incident['id']}", headers=responder.headers,
                             json={"users_affected": n}), "users_affected")
    r = client.patch(f"/api/v1/incidents/{incident['id']}", headers=responder.headers,
                     json={"users_affected": 2**31 - 1})
    assert r.status_code == 200 and r.json()["users_affected"] == 2**31 - 1, r.text


def test_null_for_a_field_that_cannot_be_empty_is_refused(
        client: TestClient, responder: Account, make_incident: Callable[..., Any]) -> None:
    incident = make_incident(title="Checkout failing", description="cards declined")
    url = f"/api/v1/incidents/{incident['id']}"
    for field in ("title", "description", "impact", "urgency", "restricted"):
        refused(client.patch(url, headers=responder.headers, json={field: None}), field)
    after = client.get(url, headers=responder.headers).json()
    assert {k: after[k] for k in ("title", "description", "impact", "urgency", "restricted")} \
        == {k: incident[k] for k in ("title", "description", "impact", "urgency", "restricted")}
    # Nullable fields still take null, and left-out fields are kept.
    r = client.patch(url, headers=responder.headers, json={"category_system": None,
                                                          "users_affected": None})
    assert r.status_code == 200 and r.json()["title"] == "Checkout failing", r.text


def test_nul_characters_are_refused(client: TestClient, responder: Account,
                                    make_incident: Callable[..., Any]) -> None:
    incident = make_incident()
    r = client.post("/api/v1/incidents", headers=responder.headers,
                    json={"title": "Checkout\u0000failing"})
    refused(r, "NUL")
    r = client.post(f"/api/v1/incidents/{incident['id']}/entries", headers=responder.headers,
                    json={"body": "restarted\u0000 the pods"})
    refused(r, "NUL")
    r = client.get("/api/v1/incidents?status=trig%00gered", headers=responder.headers)
    refused(r, "NUL")
    timeline = client.get(f"/api/v1/incidents/{incident['id']}/timeline",
                          headers=responder.headers).json()
    assert not any("\x00" in e["body"] for e in timeline)
    assert len(client.get("/api/v1/incidents", headers=responder.headers).json()["items"]) == 1


def test_instants_past_year_9999_in_utc_are_refused(
        client: TestClient, responder: Account, make_incident: Callable[..., Any]) -> None:
    incident = make_incident()
    late = "9999-12-31T23:59:59-14:00"
    refused(client.patch(f"/api/v1/incidents/{incident['id']}", headers=responder.headers,
                         json={"impact_started_at": late}), "impact_started_at")
    refused(client.get("/api/v1/incidents", params={"created_after": late},
                       headers=responder.headers), "created_after")
