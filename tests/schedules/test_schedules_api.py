"""Schedules over the API: who is on call, shifts with gaps, overrides, swaps, iCal feeds."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import Account
from tocsin.clock import FrozenClock


def weekly_body(people: list[int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Payments primary", "time_zone": "America/New_York",
        "layers": [{"name": "weekly", "participants": people, "unit": "weeks", "length": 1,
                    "start": "2026-01-05T09:00:00"}]}
    body.update(extra)
    return body


def test_who_is_on_call_now_and_at(client: TestClient, clock: FrozenClock, admin: Account,
                                   make_account: Any) -> None:
    a, b = make_account(name="Alice"), make_account(name="Bob")
    r = client.post("/api/v1/schedules", json=weekly_body([a.id, b.id]), headers=admin.headers)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    # Only the two hours before the rotation's first handoff are uncovered.
    assert r.json()["warnings"] == [
        "no one is on call for schedule Payments primary between 2026-01-05T12:00:00+00:00 "
        "and 2026-01-05T14:00:00+00:00"]
    # The clock starts Mon 5 Jan 2026 12:00 UTC = 07:00 New York: before the first handoff.
    now = client.get(f"/api/v1/schedules/{sid}/oncall", headers=admin.headers).json()
    assert now["status"] == "nobody"
    at = "2026-01-13T15:00:00Z"  # second week
    r = client.get(f"/api/v1/schedules/{sid}/oncall", params={"at": at}, headers=admin.headers)
    assert r.json()["user_name"] == "Bob"
    assert r.json()["until"] == "2026-01-19T14:00:00Z"
    every = client.get("/api/v1/oncall", params={"at": at},
                       headers=admin.headers).json()["items"]
    assert [(x["schedule_id"], x["user_id"]) for x in every] == [(sid, b.id)]


def test_shifts_range_with_override_and_gap_warning(client: TestClient, admin: Account,
                                                   make_account: Any) -> None:
    a, b, c = (make_account() for _ in range(3))
    body = weekly_body([a.id, b.id])
    body["layers"][0]["restrictions"] = [{"days": [0, 1, 2, 3, 4], "start": "09:00",
                                          "end": "17:00"}]
    r = client.post("/api/v1/schedules", json=body, headers=admin.headers)
    sid = r.json()["id"]
    assert any("no one is on call for schedule Payments primary" in w
               for w in r.json()["warnings"])
    r = client.post(f"/api/v1/schedules/{sid}/overrides", headers=admin.headers, json={
        "user_id": c.id, "start": "2026-01-07T15:00:00Z", "end": "2026-01-07T16:00:00Z"})
    assert r.status_code == 201, r.text
    clash = client.post(f"/api/v1/schedules/{sid}/overrides", headers=admin.headers, json={
        "user_id": a.id, "start": "2026-01-07T15:30:00Z", "end": "2026-01-07T18:00:00Z"})
    assert clash.status_code == 409 and "overlaps override" in clash.json()["detail"]
    r = client.get(f"/api/v1/schedules/{sid}/shifts", headers=admin.headers,
                   params={"start": "2026-01-07T00:00:00Z", "end": "2026-01-08T00:00:00Z"})
    out = r.json()
    assert [(s["user_id"], s["start"], s["end"], s["source"]) for s in out["final"]] == [
        (a.id, "2026-01-07T14:00:00Z", "2026-01-07T15:00:00Z", "layer:weekly"),
        (c.id, "2026-01-07T15:00:00Z", "2026-01-07T16:00:00Z", "override"),
        (a.id, "2026-01-07T16:00:00Z", "2026-01-07T22:00:00Z", "layer:weekly"),
    ]
    assert len(out["gaps"]) == 2 and len(out["warnings"]) == 2
    assert list(out["layers"]) == ["weekly"]


def test_swap_trades_two_spans(client: TestClient, admin: Account, make_account: Any) -> None:
    a, b = make_account(), make_account()
    sid = client.post("/api/v1/schedules", json=weekly_body([a.id, b.id]),
                      headers=admin.headers).json()["id"]
    r = client.post(f"/api/v1/schedules/{sid}/swaps", headers=admin.headers, json={
        "user_id": a.id, "start": "2026-01-06T00:00:00Z", "end": "2026-01-07T00:00:00Z",
        "other_user_id": b.id, "other_start": "2026-01-13T00:00:00Z",
        "other_end": "2026-01-14T00:00:00Z"})
    assert r.status_code == 201, r.text
    who = client.get(f"/api/v1/schedules/{sid}/oncall", params={"at": "2026-01-06T12:00:00Z"},
                     headers=admin.headers).json()
    assert who["user_id"] == b.id


def test_bad_input_is_rejected_and_nothing_stored(client: TestClient, admin: Account,
                                                  responder: Account) -> None:
    bad_zone = weekly_body([responder.id], time_zone="Mars/Olympus")
    r = client.post("/api/v1/schedules", json=bad_zone, headers=admin.headers)
    assert r.status_code == 422 and "unknown time zone 'Mars/Olympus'" in r.json()["detail"]
    r = client.post("/api/v1/schedules", json=weekly_body([999]), headers=admin.headers)
    assert r.status_code == 422 and "no user with id 999" in r.json()["detail"]
    no_people = weekly_body([])
    assert client.post("/api/v1/schedules", json=no_people,
                       headers=admin.headers).status_code == 422
    aware = weekly_body([responder.id])
    aware["layers"][0]["start"] = "2026-01-05T09:00:00+01:00"
    assert client.post("/api/v1/schedules", json=aware, headers=admin.headers).status_code == 422
    assert client.post("/api/v1/schedules", json=weekly_body([responder.id]),
                       headers=responder.headers).status_code == 403
    assert client.get("/api/v1/schedules", headers=admin.headers).json()["items"] == []


def test_ical_feeds_behind_secret_urls(client: TestClient, admin: Account,
                                       make_account: Any, clock: FrozenClock) -> None:
    a, b = make_account(name="Alice"), make_account(name="Bob")
    sid = client.post("/api/v1/schedules", json=weekly_body([a.id, b.id]),
                      headers=admin.headers).json()["id"]
    url = client.get(f"/api/v1/schedules/{sid}/feed", headers=admin.headers).json()["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    r = client.get("/" + path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    every = Calendar.from_ical(r.content).walk("VEVENT")
    events = [e for e in every if "NOBODY" not in str(e["summary"])]
    # Before the first handoff nobody is on call, and the feed says so.
    assert [str(e["summary"]) for e in every if e not in events] == [
        "NOBODY on call (Payments primary)"]
    assert events and all(("Alice" in str(e["summary"]) or "Bob" in str(e["summary"]))
                          for e in events)
    first = min(events, key=lambda e: e["dtstart"].dt)
    assert first["dtstart"].dt == datetime(2026, 1, 5, 14, tzinfo=UTC)
    assert client.get("/" + path.replace(".ics", "0.ics")).status_code == 404
    mine = client.get("/api/v1/oncall/feed", headers=b.headers).json()["url"]
    r = client.get("/" + mine.split("://", 1)[1].split("/", 1)[1])
    shifts = Calendar.from_ical(r.content).walk("VEVENT")
    assert shifts and all(e["dtend"].dt - e["dtstart"].dt == timedelta(weeks=1)
                          for e in shifts[1:-1])
