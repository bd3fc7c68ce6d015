"""Creating a service, team or schedule in the web lands on it, with the next step named:
who gets paged for the service, the team's members, using the schedule in a policy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def test_new_service_lands_on_its_page_asking_who_gets_paged(client: TestClient,
                                                             admin: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post("/services/new", data={"csrf_token": csrf, "name": "payments",
                                           "tier": "critical"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/services/1?created=1")
    page = client.get(r.headers["location"]).text
    assert "Who gets paged for this service?" in page
    assert '<a href="#policies">Choose an escalation policy</a>' in page
    assert 'id="policies"' in page
    assert "Who gets paged for this service?" not in client.get("/services/1").text


def test_new_team_lands_on_its_page_asking_for_members(client: TestClient,
                                                       admin: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post("/teams/new", data={"csrf_token": csrf, "name": "SRE"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/teams/1?created=1")
    page = client.get(r.headers["location"]).text
    assert "add members" in page and 'value="SRE"' in page


def test_new_schedule_lands_on_its_page_pointing_to_a_policy(client: TestClient,
                                                             admin: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post("/schedules/new", data={
        "csrf_token": csrf, "name": "Ops", "time_zone": "UTC", "layer_name": "Primary",
        "participant_1": str(admin.id), "unit": "weeks", "length": "1",
        "layer_start": "2026-01-05T09:00"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/schedules/1?created=1")
    page = client.get(r.headers["location"]).text
    assert "Use this schedule in an escalation policy" in page
