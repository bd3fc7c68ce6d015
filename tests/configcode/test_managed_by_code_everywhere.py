"""Every object a configuration file writes, and the web app edits, is marked "managed by
code", and a hand edit needs the tick or the form comes back 409: teams, users, heartbeats,
schedules (layers), integrations (enable/disable) and routing rules (delete). Services and
policies are in test_managed_by_code_page.py."""

from __future__ import annotations

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.accounts.models import Team, User
from tocsin.alerts import manage
from tocsin.alerts.models import Integration, RoutingRule
from tocsin.alerts.schemas import RoutingRuleIn
from tocsin.catalog.models import Service
from tocsin.configcode import service, yamlio
from tocsin.heartbeats.models import Heartbeat
from tocsin.runtime import Runtime
from tocsin.schedules.models import Schedule

TICK = "tick the box"


def _apply_export(rt: Runtime) -> None:
    """Export what is there and apply it back: everything becomes managed by code."""
    with rt.sessions() as s, s.begin():
        manage.create_rule(s, now=rt.clock.now(), data=RoutingRuleIn.model_validate(
            {"name": "db alerts", "conditions": [{"field": "source", "op": "equals",
                                                  "value": "db"}], "actions": {"severity": "SEV2"}}))
    with rt.sessions() as s, s.begin():
        doc = yaml.safe_load(yamlio.dump(service.export(s)))
        service.apply(s, doc=service.parse(doc), prune=False, now=rt.clock.now(),
                      settings=rt.settings)


def _id(rt: Runtime, model: type, **where: object) -> int:
    with rt.read_sessions() as s:
        query = select(model.id)  # type: ignore[attr-defined]
        for k, v in where.items():
            query = query.where(getattr(model, k) == v)
        return int(s.scalars(query).one())


def _refused_then_saved(client: TestClient, url: str, form: dict[str, str]) -> None:
    refused = client.post(url, data=form, follow_redirects=False)
    assert refused.status_code == 409, refused.text
    assert TICK in refused.text
    saved = client.post(url, data={**form, "edit_managed": "on"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text


def test_team_user_and_heartbeat_forms_are_marked_and_ask_first(
        populated: Runtime, client: TestClient, admin: Account) -> None:
    team = _id(populated, Team, name="Ops")
    ann = _id(populated, User, email="ann@example.com")
    beat = _id(populated, Heartbeat, name="nightly backup")
    db = _id(populated, Service, name="db")
    csrf = web_login(client, admin)
    for url in (f"/teams/{team}", f"/users/{ann}", f"/heartbeats/{beat}/edit"):
        assert "Managed by code" not in client.get(url).text
    _apply_export(populated)

    for url in (f"/teams/{team}", f"/users/{ann}", f"/heartbeats/{beat}/edit",
                f"/heartbeats/{beat}"):
        assert "Managed by code" in client.get(url).text, url
    assert 'name="edit_managed"' in client.get(f"/teams/{team}").text
    _refused_then_saved(client, f"/teams/{team}", {
        "csrf_token": csrf, "name": "Ops", "description": "by hand"})
    _refused_then_saved(client, f"/users/{ann}", {
        "csrf_token": csrf, "name": "Ann B", "email": "ann@example.com", "role": "responder",
        "time_zone": "Europe/Berlin", "active": "on"})
    _refused_then_saved(client, f"/heartbeats/{beat}/edit", {
        "csrf_token": csrf, "name": "nightly backup", "service_id": str(db),
        "period_seconds": "43200", "cron": "", "time_zone": "UTC", "grace_seconds": "300"})
    # A new object is not managed: no tick is asked for.
    created = client.post("/teams/new", data={"csrf_token": csrf, "name": "New team"},
                          follow_redirects=False)
    assert created.status_code == 303


def test_schedule_layers_are_marked_and_ask_first(
        populated: Runtime, client: TestClient, admin: Account) -> None:
    sched = _id(populated, Schedule, name="Ops primary")
    ann = _id(populated, User, email="ann@example.com")
    csrf = web_login(client, admin)
    assert "Managed by code" not in client.get(f"/schedules/{sched}").text
    _apply_export(populated)
    page = client.get(f"/schedules/{sched}?edit_layer=0").text
    assert "Managed by code" in page and 'name="edit_managed"' in page
    layer = {"csrf_token": csrf, "layer_name": "week", "unit": "weeks", "length": "2",
             "layer_start": "2026-01-05T09:00", "participant_1": str(ann)}
    _refused_then_saved(client, f"/schedules/{sched}/layers/0", layer)
    _refused_then_saved(client, f"/schedules/{sched}/layers/1/delete", {"csrf_token": csrf})


def test_a_permission_check_comes_before_the_managed_check(
        populated: Runtime, client: TestClient, responder: Account) -> None:
    """Someone who may not edit the schedule at all is told so (403), not asked to tick."""
    sched = _id(populated, Schedule, name="Ops primary")
    _apply_export(populated)
    csrf = web_login(client, responder)
    answer = client.post(f"/schedules/{sched}/layers/0", data={
        "csrf_token": csrf, "layer_name": "week", "unit": "weeks", "length": "1",
        "layer_start": "2026-01-05T09:00"}, follow_redirects=False)
    assert answer.status_code == 403


def test_integrations_and_routing_rules_are_tagged_and_ask_first(
        populated: Runtime, client: TestClient, admin: Account) -> None:
    _apply_export(populated)
    integration = _id(populated, Integration, name="prometheus")
    rule = _id(populated, RoutingRule, name="db alerts")
    csrf = web_login(client, admin)
    assert "managed by code" in client.get("/integrations").text
    assert "managed by code" in client.get("/routing").text
    _refused_then_saved(client, f"/integrations/{integration}",
                        {"csrf_token": csrf, "action": "disable"})
    # The key is not in the file: rotating it asks nothing.
    rotated = client.post(f"/integrations/{integration}",
                          data={"csrf_token": csrf, "action": "rotate"}, follow_redirects=False)
    assert rotated.status_code == 303
    _refused_then_saved(client, f"/routing/rules/{rule}/delete", {"csrf_token": csrf})


def test_deleting_a_managed_service_or_heartbeat_asks_first(
        populated: Runtime, client: TestClient, admin: Account) -> None:
    _apply_export(populated)
    beat = _id(populated, Heartbeat, name="nightly backup")
    api = _id(populated, Service, name="api")
    csrf = web_login(client, admin)
    assert 'name="edit_managed"' in client.get(f"/heartbeats/{beat}").text
    _refused_then_saved(client, f"/heartbeats/{beat}/delete", {"csrf_token": csrf})
    _refused_then_saved(client, f"/services/{api}/delete", {"csrf_token": csrf})
    with populated.read_sessions() as s:
        assert s.get(Heartbeat, beat) is None and s.get(Service, api) is None
