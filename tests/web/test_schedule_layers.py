"""Schedule layers from the web: add a higher layer (it wins where it has someone), remove
it again; bad layer input names its field and stores nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def _on_call(client: TestClient, admin: Account) -> int | None:
    rows = client.get("/api/v1/oncall", headers=admin.headers).json()["items"]
    user_id: int | None = rows[0]["user_id"]
    return user_id


def test_add_and_remove_layer(client: TestClient, admin: Account, responder: Account) -> None:
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Ops", "time_zone": "UTC", "layers": [{
            "name": "Primary", "participants": [responder.id], "unit": "weeks", "length": 1,
            "start": "2026-01-05T00:00:00"}]})
    assert r.status_code == 201, r.text
    csrf = web_login(client, admin)
    assert _on_call(client, admin) == responder.id
    r = client.post("/schedules/1/layers", data={"csrf_token": csrf, "layer_name": "Cover",
                                                 "unit": "days", "length": "1"})
    assert r.status_code == 422 and 'id="layer_start-error"' in r.text
    assert 'value="Cover"' in r.text
    r = client.post("/schedules/1/layers", data={
        "csrf_token": csrf, "layer_name": "Cover", "participant_1": str(admin.id),
        "unit": "days", "length": "1", "layer_start": "2026-01-05T00:00"},
        follow_redirects=False)
    assert r.status_code == 303
    assert _on_call(client, admin) == admin.id  # the later layer wins
    page = client.get("/schedules/1").text
    assert "Cover" in page and "Remove layer Cover" in page
    r = client.post("/schedules/1/layers/1/delete", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert _on_call(client, admin) == responder.id


def test_schedule_times_name_their_zones_and_lengths_agree(
        client: TestClient, admin: Account, responder: Account) -> None:
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Tokyo ops", "time_zone": "Asia/Tokyo", "layers": [{
            "name": "Primary", "participants": [responder.id, admin.id], "unit": "weeks",
            "length": 1,
            "start": "2026-01-05T09:00:00"}]})
    assert r.status_code == 201, r.text
    web_login(client, admin)  # the admin reads in UTC
    listing = client.get("/schedules").text
    assert "Until (your time, UTC)" in listing
    # The shift ends Monday 12 January 09:00 in Tokyo, 00:00 UTC: both are shown.
    assert "2026-01-12 00:00" in listing and "(09:00 Asia/Tokyo)" in listing
    page = client.get("/schedules/1").text
    assert "1 week from 2026-01-05 09:00 Asia/Tokyo" in page and "1 weeks" not in page
    assert "a time in the skipped hour happens an hour later (02:30 becomes 03:30)" in page
