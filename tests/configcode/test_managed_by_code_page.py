"""The web app says "managed by code" on a service that came from a configuration file, and
asks before a hand edit (the next apply would undo it)."""

from __future__ import annotations

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.catalog.models import Service
from tocsin.configcode import service, yamlio
from tocsin.runtime import Runtime


def test_managed_service_page_warns_and_asks_before_a_hand_edit(
        populated: Runtime, client: TestClient, admin: Account) -> None:
    with populated.read_sessions() as s:
        doc = yaml.safe_load(yamlio.dump(service.export(s)))
        db_id = s.scalars(select(Service.id).where(Service.name == "db")).one()
    csrf = web_login(client, admin)
    assert "Managed by code" not in client.get(f"/services/{db_id}").text

    with populated.sessions() as s, s.begin():
        service.apply(s, doc=service.parse(doc), prune=False, now=populated.clock.now(),
                      settings=populated.settings)
    page = client.get(f"/services/{db_id}").text
    assert "Managed by code" in page and 'name="edit_managed"' in page

    form = {"csrf_token": csrf, "name": "db", "description": "edited by hand",
            "tier": "critical", "owner_team_id": ""}
    refused = client.post(f"/services/{db_id}", data=form, follow_redirects=False)
    assert refused.status_code == 409 and "tick the box" in refused.text
    saved = client.post(f"/services/{db_id}", data={**form, "edit_managed": "on"},
                        follow_redirects=False)
    assert saved.status_code == 303
    with populated.read_sessions() as s:
        assert service.plan(s, doc=service.parse(doc), prune=False)  # the file now differs


def test_managed_policy_is_marked_and_a_hand_edit_asks_first(
        populated: Runtime, client: TestClient, admin: Account) -> None:
    from tocsin.escalation.models import EscalationPolicy

    with populated.sessions() as s, s.begin():
        doc = yaml.safe_load(yamlio.dump(service.export(s)))
        service.apply(s, doc=service.parse(doc), prune=False, now=populated.clock.now(),
                      settings=populated.settings)
        policy = s.scalars(select(EscalationPolicy)).one()
        pid, level = policy.id, policy.levels[0]["targets"][0]
    csrf = web_login(client, admin)
    assert "managed by code" in client.get("/escalation").text
    assert "Managed by code" in client.get(f"/escalation?edit={pid}").text
    form = {"csrf_token": csrf, "name": "Ops policy", "repeat": "0", "delay_0": "7",
            "target_0_0": f"{level['kind']}:{level['id']}"}
    refused = client.post(f"/escalation?edit={pid}", data=form, follow_redirects=False)
    assert refused.status_code == 409 and "tick the box" in refused.text
    saved = client.post(f"/escalation?edit={pid}", data={**form, "edit_managed": "on"},
                        follow_redirects=False)
    assert saved.status_code == 303
