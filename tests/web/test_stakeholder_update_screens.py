"""The stakeholder update screens, served in process: the incident's screen fills the chosen
template from the incident, shows the lists it goes to before sending, previews without
storing, sends (or keeps a draft) with the API's permissions, refuses bad input with the
message and nothing stored, and shows past updates and the promise; the incident page shows
the promise and misses; admins edit templates and lists, others cannot."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, worker
from tests.web.conftest import CSRF_RE, web_login
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def _setup(client: TestClient, admin: Account,
           make_incident: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    checkout = client.post("/api/v1/services", json={"name": "checkout"},
                           headers=admin.headers).json()["id"]
    search = client.post("/api/v1/services", json={"name": "search"},
                         headers=admin.headers).json()["id"]
    for body in ({"name": "Support desk", "severities": ["SEV2"],
                  "targets": [{"kind": "email", "address": "support@example.com"},
                              {"kind": "email", "address": "desk@example.com"}]},
                 {"name": "Search team", "service_ids": [search],
                  "targets": [{"kind": "email", "address": "search@example.com"}]}):
        r = client.post("/api/v1/stakeholders/lists", headers=admin.headers, json=body)
        assert r.status_code == 201, r.text
    return make_incident(severity="SEV2", service_ids=[checkout], title="Checkout {slow}",
                         description="Card payments take {30 s}")


def _updates(client: TestClient, admin: Account, incident_id: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/incidents/{incident_id}/stakeholder-updates",
                   headers=admin.headers)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>(.*?)</textarea>', html,
                      re.S)
    assert found, html
    import html as h
    return h.unescape(found.group(1))


def test_fill_preview_and_send_from_the_incident(
        client: TestClient, admin: Account, clock: FrozenClock,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    inc = _setup(client, admin, make_incident)
    csrf = web_login(client, admin)
    url = f"/incidents/{inc['id']}/stakeholder-update"
    page = client.get(f"/incidents/{inc['id']}")
    assert url in page.text and "No update promised" in page.text

    r = client.get(url)
    assert r.status_code == 200
    body = _textarea(r.text, "body")  # initial: nothing sent yet
    assert "We are investigating an issue affecting checkout." in body
    assert "Impact: Card payments take {{30 s}}" in body and "{next_update}" in body
    assert "Support desk" in r.text and "2 recipients" in r.text
    assert "Search team" not in r.text  # its service is not the incident's

    r = client.get(url, params={"kind": "progress"})
    body = _textarea(r.text, "body")
    assert "Current hypothesis: [hypothesis]" in body
    body = body.replace("[hypothesis]", "a bad deploy").replace("[actions]", "rolled back")
    form = {"csrf_token": csrf, "kind": "progress", "subject": "Checkout update",
            "body": body, "next_update_minutes": "20"}
    r = client.post(url, data={**form, "action": "preview"})
    assert r.status_code == 200, r.text
    preview = r.text[r.text.index('aria-label="Preview"'):]
    promised = (clock.now() + timedelta(minutes=20)).strftime("%H:%M")
    assert "Current hypothesis: a bad deploy" in preview
    assert f"Next update by {promised} UTC" in preview
    assert "{next_update}" not in preview.split("</div>")[0]
    assert _updates(client, admin, inc["id"])["updates"] == []  # a preview stores nothing

    r = client.post(url, data={**form, "action": "send"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    state = _updates(client, admin, inc["id"])
    [sent] = state["updates"]
    assert sent["recipients"] == 2 and sent["subject"] == "Checkout update"
    assert "a bad deploy" in sent["body"] and "{" not in sent["body"]
    assert state["next_update_at"] is not None
    screen = client.get(url).text
    assert "Checkout update" in screen and "sent" in screen and "Due " in screen
    # The incident's own text keeps its braces through the edited template.
    r = client.get(url, params={"kind": "initial"})
    form = {"csrf_token": csrf, "kind": "initial", "subject": "Checkout slow",
            "body": _textarea(r.text, "body"), "action": "send"}
    assert client.post(url, data=form, follow_redirects=False).status_code == 303
    latest = _updates(client, admin, inc["id"])["updates"][-1]
    assert "Impact: Card payments take {30 s}" in latest["body"]


def test_a_responder_drafts_the_commander_sends(
        client: TestClient, admin: Account, make_account: Callable[..., Account],
        make_incident: Callable[..., dict[str, Any]]) -> None:
    inc = _setup(client, admin, make_incident)
    writer = make_account("responder", name="Wren")
    writer_client = TestClient(client.app)
    csrf = web_login(writer_client, writer)
    url = f"/incidents/{inc['id']}/stakeholder-update"
    screen = writer_client.get(url).text
    assert 'value="send"' not in screen and "save a draft for them" in screen
    form = {"csrf_token": csrf, "kind": "initial", "subject": "Checkout slow",
            "body": _textarea(screen, "body")}
    r = writer_client.post(url, data={**form, "action": "send"})
    assert r.status_code == 403 and "communications lead" in r.text
    assert _updates(client, admin, inc["id"])["updates"] == []
    r = writer_client.post(url, data={**form, "action": "draft"}, follow_redirects=False)
    assert r.status_code == 303
    [draft] = _updates(client, admin, inc["id"])["updates"]
    assert draft["sent_at"] is None

    admin_csrf = web_login(client, admin)
    screen = client.get(url).text
    assert "Send this draft" in screen
    r = client.post(f"{url}/{draft['id']}/send", data={"csrf_token": admin_csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    [sent] = _updates(client, admin, inc["id"])["updates"]
    assert sent["sent_at"] is not None and sent["recipients"] == 2


def test_bad_input_is_refused_and_nothing_is_stored(
        client: TestClient, admin: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    inc = _setup(client, admin, make_incident)
    csrf = web_login(client, admin)
    url = f"/incidents/{inc['id']}/stakeholder-update"
    good = {"csrf_token": csrf, "kind": "initial", "subject": "S", "body": "Text",
            "action": "send"}
    for change, message in (({"body": "Cause: {root_cause}"}, "unknown field root_cause"),
                            ({"body": "Broken {"}, "template"),
                            ({"body": ""}, "must say something"),
                            ({"kind": "weekly"}, "kind"),
                            ({"next_update_minutes": "soon"}, "whole number"),
                            ({"next_update_minutes": "5000"}, "at most")):
        r = client.post(url, data={**good, **change})
        assert r.status_code == 422, (change, r.status_code)
        assert message in r.text, (change, r.text[-3000:])
        assert 'aria-invalid="true"' in r.text or 'role="alert"' in r.text
    assert _updates(client, admin, inc["id"])["updates"] == []
    assert client.post("/incidents/999999/stakeholder-update", data=good).status_code == 404


def test_viewers_read_but_do_not_write(client: TestClient, admin: Account, viewer: Account,
                                       make_incident: Callable[..., dict[str, Any]]) -> None:
    inc = _setup(client, admin, make_incident)
    csrf = web_login(client, viewer)
    url = f"/incidents/{inc['id']}/stakeholder-update"
    r = client.get(url)
    assert r.status_code == 200 and "Past updates" in r.text and 'name="body"' not in r.text
    r = client.post(url, data={"csrf_token": csrf, "kind": "initial", "body": "x",
                               "action": "draft"})
    assert r.status_code == 403
    r = client.get("/stakeholders")
    assert r.status_code == 200 and "Distribution lists" not in r.text
    assert "support@example.com" not in r.text  # addresses are for admins
    r = client.post("/stakeholders/templates/initial",
                    data={"csrf_token": csrf, "subject": "x", "body": "y"})
    assert r.status_code == 403


def test_a_missed_promise_shows_on_the_incident(
        client: TestClient, runtime: Runtime, admin: Account, clock: FrozenClock,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    inc = _setup(client, admin, make_incident)
    r = client.post(f"/api/v1/incidents/{inc['id']}/stakeholder-updates",
                    headers=admin.headers, json={"kind": "initial", "next_update_minutes": 10})
    assert r.status_code == 201, r.text
    web_login(client, admin)
    assert "Next update due" in client.get(f"/incidents/{inc['id']}").text
    clock.advance(minutes=11)
    drain(worker(runtime))
    page = client.get(f"/incidents/{inc['id']}").text
    assert "1 missed" in page
    assert "1 promised update missed" in client.get(
        f"/incidents/{inc['id']}/stakeholder-update").text


def test_admin_edits_templates_and_lists(client: TestClient, admin: Account) -> None:
    csrf = web_login(client, admin)
    r = client.get("/stakeholders")
    assert r.status_code == 200 and "Investigating an issue affecting {service}" in r.text
    r = client.post("/stakeholders/templates/initial", data={
        "csrf_token": csrf, "subject": "[{severity}] {service}", "body": "Cause: {why}"})
    assert r.status_code == 422 and "unknown field why" in r.text
    assert "Cause: {why}" in r.text  # what was typed is kept
    api = client.get("/api/v1/stakeholders/templates", headers=admin.headers).json()
    assert api["initial"]["default"] is True
    r = client.post("/stakeholders/templates/initial", data={
        "csrf_token": csrf, "subject": "[{severity}] {service}", "body": "About {service}."},
        follow_redirects=False)
    assert r.status_code == 303
    api = client.get("/api/v1/stakeholders/templates", headers=admin.headers).json()
    assert api["initial"]["body"] == "About {service}." and api["initial"]["default"] is False

    bad = {"csrf_token": csrf, "name": "Execs", "severities": ["SEV1"], "executive": "on",
           "targets": "email not-an-address"}
    r = client.post("/stakeholders/lists", data=bad)
    assert r.status_code == 422 and "not an email address" in r.text
    r = client.post("/stakeholders/lists", data={**bad, "targets": "pigeon coop"})
    assert r.status_code == 422 and "line 1" in r.text
    assert client.get("/api/v1/stakeholders/lists", headers=admin.headers).json()["items"] == []
    r = client.post("/stakeholders/lists", follow_redirects=False, data={
        **bad, "targets": "email cto@example.com\nslack slack://T/B/C"})
    assert r.status_code == 303
    [made] = client.get("/api/v1/stakeholders/lists", headers=admin.headers).json()["items"]
    assert made["executive"] and made["severities"] == ["SEV1"]
    assert [t["kind"] for t in made["targets"]] == ["email", "slack"]
    page = client.get("/stakeholders").text
    assert "cto@example.com" in page
    token = CSRF_RE.search(page)
    assert token
    r = client.post(f"/stakeholders/lists/{made['id']}/delete",
                    data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/stakeholders/lists", headers=admin.headers).json()["items"] == []
