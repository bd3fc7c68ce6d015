"""Everything attached to a restricted incident follows its visibility, on every read.

One restricted incident carries an alert from a sender (its events keep the raw payload, its
inbox row names it), a check's alert, and a page. Every GET route of the app — API and web
pages, found in the app itself so a route added later is swept too — is asked by two
outsiders (a viewer and a non-member responder): none shows the incident's title, an alert's
summary or payload, or names the incident or its alerts; asked about them by id, each answers
as it does for an id that does not exist. The member, the owner and the admin see them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.conftest import Account, drain_intake
from tests.web.conftest import web_login
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.service import ingest_event
from tocsin.notify.models import ContactMethod, Message
from tocsin.principal import Role
from tocsin.runtime import Runtime
from tocsin.schedules.handoff import on_handoff

TITLE = "Zebra credential leak"
SUMMARY = "Quokka token exfiltration"
PAYLOAD = "Ocelot-raw-payload-detail"
CHECK_SUMMARY = "Narwhal login probe failing"
PUBLIC_SUMMARY = "Slow search results"
MISSING = 987654  # an id nothing has


@dataclass
class World:
    incident_id: int
    alert_id: int
    check_alert_id: int
    public_alert_id: int
    service_id: int
    integration_id: int
    check_id: int

    def leaks(self, text: str) -> list[str]:
        """What in `text` shows or names the restricted incident or its alerts."""
        found = [m for m in (TITLE, SUMMARY, PAYLOAD, CHECK_SUMMARY) if m in text]
        iid, alerts = self.incident_id, (self.alert_id, self.check_alert_id)
        patterns = [rf"INC-{iid}\b", rf"/incidents/{iid}\b", rf'"incident_id":\s*{iid}\b']
        for aid in alerts:
            patterns += [rf'"alert_id":\s*{aid}\b', rf"/alerts/{aid}\b"]
        found += [p for p in patterns if re.search(p, text)]
        return found


def _pd_event(key: str, dedup: str, summary: str, detail: str) -> dict[str, Any]:
    return {"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": summary, "source": "auth-1", "severity": "critical",
                        "custom_details": {"note": detail}}}


@pytest.fixture
def owner(make_account: Any) -> Account:
    return make_account(Role.RESPONDER, name="Olga Owner")


@pytest.fixture
def member(make_account: Any) -> Account:
    return make_account(Role.VIEWER, name="Mia Member")


@pytest.fixture
def outsiders(viewer: Account, make_account: Any) -> list[Account]:
    return [viewer, make_account(Role.RESPONDER, name="Nico Non-member")]


@pytest.fixture
def world(client: TestClient, runtime: Runtime, admin: Account, owner: Account,
          member: Account) -> World:
    service = client.post("/api/v1/services", headers=admin.headers,
                          json={"name": "auth"}).json()
    sid = service["id"]
    # One incident per service within the window: the check's alert joins the sender's.
    r = client.put(f"/api/v1/services/{sid}/triage", headers=admin.headers,
                   json={"grouping": "service", "window_minutes": 60})
    assert r.status_code == 200, r.text
    integration = client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": sid, "kind": "pagerduty", "name": "pd"}).json()
    public_service = client.post("/api/v1/services", headers=admin.headers,
                                 json={"name": "search"}).json()
    public_pd = client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": public_service["id"], "kind": "pagerduty", "name": "pd2"}).json()
    # The public alert first: the restricted ones are the newest, so a list's first page is
    # where a filter applied after fetching would come up short.
    for body in (_pd_event(public_pd["key"], "search", PUBLIC_SUMMARY, "nothing secret"),
                 _pd_event(integration["key"], "auth", SUMMARY, PAYLOAD),
                 _pd_event(integration["key"], "auth", SUMMARY, PAYLOAD)):
        assert client.post("/v2/enqueue", json=body).status_code == 202
    assert drain_intake(runtime) == 3
    check = client.post("/api/v1/checks", headers=admin.headers, json={
        "name": "login", "kind": "http", "service_id": sid, "interval_seconds": 60,
        "timeout_seconds": 5, "config": {"url": "https://example.com/login"}}).json()
    with runtime.sessions() as session, session.begin():
        check_alert = ingest_event(session, NormalizedEvent(
            action=EventAction.TRIGGER, dedup_key=f"check-{check['id']}", summary=CHECK_SUMMARY,
            source=f"check:{check['id']}", occurred_at=runtime.clock.now(), service_id=sid),
            now=runtime.clock.now(), settings=runtime.settings)
    alerts = client.get("/api/v1/alerts", headers=admin.headers).json()["items"]
    by_summary = {a["summary"]: a for a in alerts}
    secret = by_summary[SUMMARY]
    assert check_alert.incident_id == secret["incident_id"]
    iid = secret["incident_id"]

    for path, body in ((f"/api/v1/incidents/{iid}", {"restricted": True, "title": TITLE}),
                       (f"/api/v1/incidents/{iid}/members", {"user_id": member.id}),
                       (f"/api/v1/incidents/{iid}/roles",
                        {"role": "commander", "user_id": owner.id})):
        r = client.request("PATCH" if path.endswith(str(iid)) else "POST", path,
                           headers=admin.headers, json=body)
        assert r.status_code == 200, r.text
    # A page to the member (a verified contact method, written as verification would).
    r = client.post(f"/api/v1/users/{member.id}/contact-methods", headers=admin.headers,
                    json={"kind": "email", "address": "mia@example.com"})
    assert r.status_code == 201, r.text
    with runtime.sessions() as session, session.begin():
        session.execute(update(ContactMethod).values(verified_at=runtime.clock.now()))
    r = client.post(f"/api/v1/incidents/{iid}/page", headers=owner.headers,
                    json={"user_ids": [member.id], "note": "need you"})
    assert r.status_code == 200 and r.json()["paged_user_ids"] == [member.id], r.text
    # Later events of both alerts, still waiting in the inbox for triage.
    for body in (_pd_event(public_pd["key"], "search", PUBLIC_SUMMARY, "nothing secret"),
                 _pd_event(integration["key"], "auth", SUMMARY, PAYLOAD)):
        assert client.post("/v2/enqueue", json=body).status_code == 202
    return World(incident_id=iid, alert_id=secret["id"], check_alert_id=check_alert.alert_id,
                 public_alert_id=by_summary[PUBLIC_SUMMARY]["id"], service_id=sid,
                 integration_id=integration["id"], check_id=check["id"])


# ---- every GET route, from the app ---------------------------------------------------------

def _get_routes(app: Any) -> list[str]:
    """Path templates of every GET route of the app (API and pages)."""

    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI ≥ 0.16x wraps them
            if included is not None:
                yield from walk(included.routes)
            else:
                yield route

    return sorted({r.path for r in walk(app.router.routes)
                   if isinstance(r, APIRoute) and "GET" in r.methods})


def _values(w: World, member: Account, hidden_id: int | None = None) -> dict[str, str]:
    """A value for each path parameter; `hidden_id` replaces the restricted ids."""
    iid = hidden_id or w.incident_id
    return {"incident_id": str(iid), "alert_id": str(hidden_id or w.alert_id),
            "service_id": str(w.service_id), "integration_id": str(w.integration_id),
            "check_id": str(w.check_id), "user_id": str(member.id), "team_id": "1",
            "schedule_id": "1", "policy_id": "1", "heartbeat_id": "1", "scope": "global",
            "request_id": "r1", "kind": "schedules", "ident": "1", "token": "x", "key": "x",
            "exit_code": "0", "identifier": str(hidden_id or w.alert_id), "rest": "x",
            "subscription_id": "1",
            "postmortem_id": "1", "problem_id": "1", "drill_id": "1",
            "page_id": "1", "component_id": "1", "post_id": "1", "slug": "x", "name": "x",
            "runbook": "x"}


PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
# Query variants of list routes whose default leaves attached rows out.
EXTRA = ["/api/v1/intake/inbox?status=done", "/api/v1/intake/inbox?status=pending",
         "/api/v1/incidents?open=true", "/api/v1/alerts?status=firing", "/incidents?status=",
         "/api/v1/alerts?limit=1", "/api/v1/alert-noise?days=365"]


def _fill(template: str, values: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        assert m.group(1) in values, f"give {template}'s '{m.group(1)}' a value in _values"
        return values[m.group(1)]

    return PARAM.sub(one, template)


def _signed_in(app: Any, who: Account) -> TestClient:
    c = TestClient(app, raise_server_exceptions=False)
    web_login(c, who)
    return c


def _get(c: TestClient, who: Account, path: str) -> Any:
    # API routes with the user's key, pages with the signed-in session.
    headers = who.headers if path.startswith(("/api/", "/v2/")) else {}
    return c.get(path, headers=headers, follow_redirects=False)


def test_outsiders_see_nothing_of_it_on_any_read(
        client: TestClient, world: World, member: Account, outsiders: list[Account]) -> None:
    templates = _get_routes(client.app)
    assert len(templates) > 80 and "/api/v1/alerts/{alert_id}/events" in templates \
        and "/live/dashboard" in templates  # the sweep found the app's routes
    problems: list[tuple[str, str, Any]] = []  # every leak at once, not just the first
    for who in outsiders:
        name = who.user.name
        with _signed_in(client.app, who) as c:
            for template in templates:
                path = _fill(template, _values(world, member))
                r = _get(c, who, path)
                if r.status_code >= 500:
                    problems.append((name, path, r.status_code))
                asked = {"incident_id", "alert_id"} & set(PARAM.findall(template))
                if asked:
                    # Asked about it by id: the very answer an id nothing has gets.
                    hidden = world.incident_id if "incident_id" in asked else world.alert_id
                    absent = _get(c, who, _fill(template, _values(world, member, MISSING)))
                    expected = (absent.status_code,
                                absent.text.replace(str(MISSING), str(hidden)))
                    if r.status_code not in (403, 404) or (r.status_code, r.text) != expected:
                        problems.append((name, path, r.status_code))
                elif world.leaks(r.text):
                    problems.append((name, path, world.leaks(r.text)))
            for path in EXTRA:
                r = _get(c, who, path)
                assert r.status_code == 200, (path, r.text)
                if world.leaks(r.text):
                    problems.append((name, path, world.leaks(r.text)))
            # Still shown what they may see, a page at a time; counts leave the rest out.
            first = _get(c, who, "/api/v1/alerts?limit=1").json()["items"]
            if [a["id"] for a in first] != [world.public_alert_id]:
                problems.append((name, "/api/v1/alerts?limit=1", first))
            assert PUBLIC_SUMMARY in _get(c, who, "/").text
            assert PUBLIC_SUMMARY in _get(c, who, "/api/v1/intake/inbox?status=pending").text
            noise = _get(c, who, "/api/v1/alert-noise").json()
            if sum(row["alerts"] for row in noise["integrations"]) != 1:
                problems.append((name, "/api/v1/alert-noise", noise["integrations"]))
    assert not problems, "\n".join(map(str, problems))


def test_member_owner_and_admin_still_see_it(client: TestClient, world: World, admin: Account,
                                              owner: Account, member: Account) -> None:
    iid, aid = world.incident_id, world.alert_id
    for who in (member, owner, admin):
        with _signed_in(client.app, who) as c:
            seen = {path: _get(c, who, path) for path in (
                "/api/v1/alerts", f"/api/v1/alerts/{aid}", f"/api/v1/alerts/{aid}/events",
                f"/api/v1/incidents/{iid}/alerts", "/api/v1/intake/inbox?status=done",
                "/api/v1/intake/inbox?status=pending",
                "/", "/live/dashboard", f"/incidents/{iid}", f"/checks/{world.check_id}")}
            for path, r in seen.items():
                assert r.status_code == 200, (who.user.name, path, r.status_code)
                assert world.leaks(r.text), (who.user.name, path)
            assert PAYLOAD in seen[f"/api/v1/alerts/{aid}/events"].text
            assert CHECK_SUMMARY in seen[f"/checks/{world.check_id}"].text
            noise = _get(c, who, "/api/v1/alert-noise").json()
            assert sum(row["alerts"] for row in noise["integrations"]) == 3


def test_handoff_briefing_names_only_what_its_reader_may_see(
        client: TestClient, runtime: Runtime, world: World, admin: Account, member: Account,
        outsiders: list[Account]) -> None:
    for n, (who, shown) in enumerate(((member, True), *((o, False) for o in outsiders))):
        r = client.post("/api/v1/schedules", headers=admin.headers, json={
            "name": f"ops-{n}", "time_zone": "UTC", "layers": [{
                "name": "daily", "participants": [who.id], "unit": "days",
                "start": "2026-01-04T18:00:00"}]})
        assert r.status_code == 201, r.text
        schedule_id = r.json()["id"]
        r = client.post(f"/api/v1/users/{who.id}/contact-methods", headers=admin.headers,
                        json={"kind": "email", "address": f"reader{n}@example.com"})
        assert r.status_code == 201, r.text
        with runtime.sessions() as session, session.begin():
            session.execute(update(ContactMethod).values(verified_at=runtime.clock.now()))
            on_handoff(session, payload={"schedule_id": schedule_id},
                       now=runtime.clock.now())
        with runtime.sessions() as session:
            # One text, sent to each of their verified contact methods.
            [text] = {m.payload["text"] for m in session.scalars(select(Message).where(
                Message.kind == "briefing", Message.user_id == who.id))}
        assert (TITLE in text) is shown and (SUMMARY in text) is shown, (who.user.name, text)
        assert PUBLIC_SUMMARY in text
        assert f"Open incidents ({2 if shown else 1})" in text, text
