"""On the schedule's page the outgoing on-call writes the shift handoff note and sees the
past ones (delivered or not); someone not on call gets no form and is refused."""

from __future__ import annotations

import html
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.runtime import Runtime
from tocsin.schedules import handoff
from tocsin.schedules import service as schedules


def _schedule(client: TestClient, admin: Account, on_call: Account) -> int:
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Ops", "time_zone": "UTC", "layers": [{
            "name": "Primary", "participants": [on_call.id], "unit": "weeks", "length": 1,
            "start": "2026-01-05T00:00:00"}]})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _notes(client: TestClient, admin: Account, sid: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(f"/api/v1/schedules/{sid}/handoff-notes",
                                             headers=admin.headers).json()["items"]
    return items


def test_outgoing_on_call_writes_the_note_and_sees_past_notes(
        client: TestClient, runtime: Runtime, admin: Account, make_account: Any) -> None:
    nina = make_account(name="Nina Oncall")
    sid = _schedule(client, admin, nina)
    csrf = web_login(client, nina)
    page = client.get(f"/schedules/{sid}").text
    assert 'id="handoff-note-form"' in page and "No handoff notes yet." in page

    r = client.post(f"/schedules/{sid}/handoff-notes", follow_redirects=False, data={
        "csrf_token": csrf, "handoff_note": "db-2 disk at 85%; OPS-12 still open"})
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith(f"/schedules/{sid}#handoff-notes")
    assert [n["text"] for n in _notes(client, admin, sid)] == \
        ["db-2 disk at 85%; OPS-12 still open"]
    assert [n["author_id"] for n in _notes(client, admin, sid)] == [nina.id]

    # Delivered at the handoff (as the handoff timer does), then a second note.
    with runtime.sessions() as session, session.begin():
        schedule = schedules.get_schedule(session, sid)
        briefing = handoff.deliver_notes(session, schedule=schedule, to_user_id=admin.id,
                                         now=runtime.clock.now())
    assert "db-2 disk at 85%" in briefing
    assert client.post(f"/schedules/{sid}/handoff-notes", follow_redirects=False, data={
        "csrf_token": csrf, "handoff_note": "cert renewal due Friday"}).status_code == 303

    page = html.unescape(client.get(f"/schedules/{sid}").text)
    notes = page[page.index('id="handoff-notes"'):page.index('id="layers"')]
    assert notes.index("cert renewal due Friday") < notes.index("db-2 disk at 85%")  # newest first
    assert "Nina Oncall" in notes and "not delivered yet" in notes
    assert f"delivered to {admin.user.name}" in notes


def test_an_empty_note_is_refused_with_its_field_named(
        client: TestClient, admin: Account, make_account: Any) -> None:
    nina = make_account(name="Nina Oncall")
    sid = _schedule(client, admin, nina)
    csrf = web_login(client, nina)
    r = client.post(f"/schedules/{sid}/handoff-notes",
                    data={"csrf_token": csrf, "handoff_note": "   "})
    assert r.status_code == 422
    assert 'id="handoff_note-error"' in r.text
    assert _notes(client, admin, sid) == []


def test_someone_not_on_call_gets_no_form_and_is_refused(
        client: TestClient, admin: Account, responder: Account, make_account: Any) -> None:
    nina = make_account(name="Nina Oncall")
    sid = _schedule(client, admin, nina)
    csrf = web_login(client, responder)
    page = client.get(f"/schedules/{sid}").text
    assert 'id="handoff-note-form"' not in page and 'id="handoff-notes"' in page
    r = client.post(f"/schedules/{sid}/handoff-notes",
                    data={"csrf_token": csrf, "handoff_note": "sneaky"})
    assert r.status_code == 403
    assert "only the person on call now" in html.unescape(r.text)
    assert _notes(client, admin, sid) == []
