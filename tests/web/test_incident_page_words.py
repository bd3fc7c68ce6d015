"""The incident page speaks to people: times in the reader's zone with the zone named, and
what the close form still needs in its own words, not field names."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.clock import FrozenClock
from tocsin.web.render import counted


def test_resolved_incident_shows_its_recovery_watch_in_the_readers_zone(
        client: TestClient, make_account: Callable[..., Account], make_incident: Any,
        clock: FrozenClock) -> None:
    paris = make_account("responder", name="Paula Paris", time_zone="Europe/Paris")
    iid = make_incident(as_=paris, severity="SEV2")["id"]
    r = client.post(f"/api/v1/incidents/{iid}/resolve", headers=paris.headers,
                    json={"resolution_summary": "rolled back", "users_affected": 3})
    assert r.status_code == 200, r.text
    web_login(client, paris)
    page = client.get(f"/incidents/{iid}").text
    # The frozen clock starts at 12:00 UTC on 5 January: a SEV2 watch of an hour ends at
    # 13:00 UTC, which is 14:00 in Paris (CET).
    assert "times in Europe/Paris" in page
    assert "Recovery watch until 2026-01-05 14:00 CET" in page
    shown = re.sub(r'datetime="[^"]*"', "", page.split('id="timeline-h"', 1)[1])
    assert "+00:00" not in shown and ":00.0" not in shown


def test_close_form_lists_what_is_missing_in_words(client: TestClient, responder: Account,
                                                   make_incident: Any) -> None:
    iid = make_incident(severity="SEV3")["id"]
    r = client.post(f"/api/v1/incidents/{iid}/resolve", headers=responder.headers,
                    json={"resolution_summary": "restarted"})
    assert r.status_code == 200, r.text
    web_login(client, responder)
    page = client.get(f"/incidents/{iid}").text
    assert "Before it can close, the record needs:" in page
    assert "How many users were affected (0 if none)." in page
    assert "users_affected" not in page.split("Before it can close", 1)[1].split("</ul>", 1)[0]


def test_favicon_is_served_where_browsers_look_for_it(client: TestClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert r.text.startswith("<svg")


def test_counts_agree_with_their_nouns() -> None:
    assert [counted(n, "weeks") for n in (1, 2)] == ["1 week", "2 weeks"]
    assert counted(1, "more times") == "1 more time"
    assert counted(0, "days") == "0 days"


def test_every_page_says_which_zone_its_times_are_in(client: TestClient,
                                                     make_account: Callable[..., Account]
                                                     ) -> None:
    web_login(client, make_account("responder", time_zone="America/Sao_Paulo"))
    for path in ("/", "/incidents", "/schedules", "/checks"):
        page = client.get(path).text
        assert "times in America/Sao_Paulo" in page, path
