"""The schedule page offers what the API has: a business-hours window on a layer, editing a
layer in place, a shift swap (two overrides together) and the schedule's iCal link."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def _schedule(client: TestClient, admin: Account, responder: Account) -> None:
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Ops", "time_zone": "UTC", "layers": [{
            "name": "Primary", "participants": [responder.id], "unit": "weeks", "length": 1,
            "start": "2026-01-05T00:00:00"}]})
    assert r.status_code == 201, r.text


def _layers(client: TestClient, admin: Account) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = client.get("/api/v1/schedules/1",
                                              headers=admin.headers).json()["layers"]
    return layers


def test_layer_added_with_business_hours_window(client: TestClient, admin: Account,
                                                responder: Account) -> None:
    _schedule(client, admin, responder)
    csrf = web_login(client, admin)
    r = client.post("/schedules/1/layers", data={
        "csrf_token": csrf, "layer_name": "Office", "participant_1": str(admin.id),
        "unit": "days", "length": "1", "layer_start": "2026-01-05T09:00",
        "window_1_days": ["0", "1", "2", "3", "4"], "window_1_from": "09:00",
        "window_1_to": "17:00"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    office = _layers(client, admin)[1]
    assert office["restrictions"] == [{"days": [0, 1, 2, 3, 4], "start": "09:00:00",
                                       "end": "17:00:00"}]
    page = client.get("/schedules/1").text
    assert "Mon, Tue, Wed, Thu, Fri 09:00\u201317:00" in page


def test_bad_window_names_its_fields_and_keeps_values(client: TestClient, admin: Account,
                                                      responder: Account) -> None:
    _schedule(client, admin, responder)
    csrf = web_login(client, admin)
    r = client.post("/schedules/1/layers", data={
        "csrf_token": csrf, "layer_name": "Office", "participant_1": str(admin.id),
        "unit": "days", "length": "1", "layer_start": "2026-01-05T09:00",
        "window_1_from": "9 in the morning", "window_1_to": "17:00"})
    assert r.status_code == 422
    assert 'id="window_1_days-error"' in r.text and 'id="window_1_from-error"' in r.text
    assert 'value="17:00"' in r.text and 'value="Office"' in r.text
    assert len(_layers(client, admin)) == 1


def test_layer_edited_in_place(client: TestClient, admin: Account,
                               responder: Account) -> None:
    _schedule(client, admin, responder)
    csrf = web_login(client, admin)
    form = client.get("/schedules/1?edit_layer=0").text
    assert 'action="/schedules/1/layers/0"' in form
    assert 'value="Primary"' in form and 'value="2026-01-05T00:00"' in form
    r = client.post("/schedules/1/layers/0", data={
        "csrf_token": csrf, "layer_name": "Primary", "participant_1": str(responder.id),
        "participant_2": str(admin.id), "unit": "days", "length": "2",
        "layer_start": "2026-01-05T08:00", "window_1_days": ["5", "6"],
        "window_1_from": "22:00", "window_1_to": "06:00"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    layers = _layers(client, admin)
    assert len(layers) == 1
    assert layers[0]["participants"] == [responder.id, admin.id]
    assert layers[0]["unit"] == "days" and layers[0]["length"] == 2
    assert layers[0]["restrictions"][0]["days"] == [5, 6]
    refill = client.get("/schedules/1?edit_layer=0").text
    assert 'value="22:00"' in refill and 'value="5" checked' in refill


def test_shift_swap_makes_two_overrides(client: TestClient, admin: Account,
                                        responder: Account) -> None:
    _schedule(client, admin, responder)
    csrf = web_login(client, admin)  # the admin's zone is UTC
    r = client.post("/schedules/1/swaps", data={
        "csrf_token": csrf, "swap_user_id": str(responder.id),
        "swap_start": "2026-03-02T00:00", "swap_end": "2026-03-03T00:00",
        "swap_other_user_id": str(admin.id), "swap_other_start": "2026-03-09T00:00",
        "swap_other_end": "2026-03-10T00:00"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    overrides = client.get("/api/v1/schedules/1", headers=admin.headers).json()["overrides"]
    spans = sorted((o["user_id"], o["start"][:10]) for o in overrides)
    assert spans == sorted([(admin.id, "2026-03-02"), (responder.id, "2026-03-09")])


def test_bad_swap_names_its_fields_and_stores_nothing(client: TestClient, admin: Account,
                                                      responder: Account) -> None:
    _schedule(client, admin, responder)
    csrf = web_login(client, admin)
    r = client.post("/schedules/1/swaps", data={
        "csrf_token": csrf, "swap_user_id": str(responder.id),
        "swap_start": "2026-03-02T00:00", "swap_end": "",
        "swap_other_user_id": str(admin.id), "swap_other_start": "tomorrow",
        "swap_other_end": "2026-03-10T00:00"})
    assert r.status_code == 422
    assert 'id="swap_end-error"' in r.text and 'id="swap_other_start-error"' in r.text
    assert 'value="2026-03-02T00:00"' in r.text
    assert client.get("/api/v1/schedules/1", headers=admin.headers).json()["overrides"] == []


def test_schedule_page_shows_its_ical_link(client: TestClient, admin: Account,
                                           responder: Account) -> None:
    _schedule(client, admin, responder)
    web_login(client, admin)
    url = client.get("/api/v1/schedules/1/feed", headers=admin.headers).json()["url"]
    page = client.get("/schedules/1").text
    assert f'<code class="token" id="schedule-ical-link">{url}</code>' in page
    assert 'data-copy="#schedule-ical-link"' in page
