"""The outgoing on-call leaves a note; the incoming one gets it at the top of the handoff
briefing (real SMTP), and it stays listed on the schedule, marked delivered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(database_url=database_url, smtp_port=smtp[1])


def test_outgoing_note_reaches_the_incoming_person_at_the_handoff(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    verified_email(client, w, inbox, bob, "bob@x.io")
    sid = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "ops", "time_zone": "UTC", "layers": [{
            "name": "daily", "participants": [alice.id, bob.id], "unit": "days",
            "start": "2026-01-04T18:00:00"}]}).json()["id"]
    notes = f"/api/v1/schedules/{sid}/handoff-notes"
    # Bob is not on call yet: he cannot write the outgoing note.
    assert client.post(notes, headers=bob.headers, json={"text": "x"}).status_code == 403
    r = client.post(notes, headers=alice.headers,
                    json={"text": "disk on db-2 at 85%, ticket OPS-12 open"})
    assert r.status_code == 201, r.text
    assert r.json()["delivered_at"] is None
    clock.set(datetime(2026, 1, 5, 18, 0, 1, tzinfo=UTC))
    drain(w)
    [brief] = [m for m in inbox.to("bob@x.io") if m["Subject"].startswith("On call now")]
    text = body_of(brief).replace("\r\n", "\n")
    assert text.startswith("Handoff notes from the last shift:\n"
                           "- Alice: disk on db-2 at 85%, ticket OPS-12 open\n")
    assert "Open incidents" in text  # the automatic briefing follows
    kept = client.get(notes, headers=bob.headers).json()["items"]
    assert [(n["text"], n["delivered_to_id"]) for n in kept] == \
        [("disk on db-2 at 85%, ticket OPS-12 open", bob.id)]
    assert kept[0]["delivered_at"] is not None
