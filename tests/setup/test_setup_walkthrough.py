"""The checklist over the API and on the dashboard, walked from a fresh install to a real
page: a webhook contact method (verified with the code its receiver got), a test message, a
service and a policy, an integration, and the dashboard's "Send a test alert" button, which
posts the integration's sample through the real intake."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account, drain_intake
from tests.notify.paging import drain, worker
from tests.notify.servers import http_receiver
from tests.web.conftest import web_login
from tocsin.runtime import Runtime


def _setup(client: TestClient, who: Account) -> dict[str, Any]:
    r = client.get("/api/v1/setup", headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _done(client: TestClient, who: Account) -> dict[str, bool]:
    return {s["key"]: s["done"] for s in _setup(client, who)["steps"]}


def test_walk_the_checklist_to_a_real_page(client: TestClient, runtime: Runtime,
                                           admin: Account) -> None:
    fresh = _setup(client, admin)
    assert fresh["done"] is False and fresh["next_step"] == "contact_method"
    assert not any(_done(client, admin).values()) and fresh["sender"] is None
    csrf = web_login(client, admin)
    page = client.get("/").text
    assert 'id="setup"' in page and "0 of 6" in page and "Dismiss checklist" in page

    w = worker(runtime)
    with http_receiver() as (got, url):
        r = client.post(f"/api/v1/users/{admin.id}/contact-methods", headers=admin.headers,
                        json={"kind": "webhook", "address": url + "/hook"})
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        drain(w)
        code = re.search(r"code is (\d{6})", got[-1].body.decode())
        assert code is not None
        r = client.post(f"/api/v1/contact-methods/{mid}/verify", headers=admin.headers,
                        json={"code": code.group(1)})
        assert r.status_code == 200, r.text
        assert _done(client, admin)["contact_method"]

        client.post(f"/api/v1/contact-methods/{mid}/test", headers=admin.headers)
        assert "on its way" in _setup(client, admin)["steps"][1]["detail"]
        drain(w)
        assert _done(client, admin)["test_message"]

        sid = client.post("/api/v1/services", headers=admin.headers,
                          json={"name": "checkout"}).json()["id"]
        r = client.post("/api/v1/integrations", headers=admin.headers, json={
            "service_id": sid, "kind": "alertmanager", "name": "prometheus"})
        assert r.status_code == 201, r.text
        state = _setup(client, admin)
        assert state["next_step"] == "who_is_paged"
        assert state["sender"]["name"] == "prometheus"
        assert state["sender"]["sample_path"] == \
            f"/api/v1/integrations/{r.json()['id']}/sample"
        assert "webhook_configs" in state["sender"]["snippets"]["alertmanager_yaml"]
        assert "webhook_configs" in client.get("/").text  # the exact snippet, on the card

        pid = client.post("/api/v1/escalation-policies", headers=admin.headers, json={
            "name": "primary", "levels": [{"delay_minutes": 0, "targets": [
                {"kind": "user", "id": admin.id}]}]}).json()["id"]
        client.put(f"/api/v1/services/{sid}/escalation-policies", headers=admin.headers,
                   json={"policies": {"SEV1": pid, "SEV2": pid}})
        assert _done(client, admin)["who_is_paged"]
        assert 'action="/setup/test-alert"' in client.get("/").text

        before = len(got)
        r = client.post("/setup/test-alert", data={"csrf_token": csrf},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/#setup"
        assert drain_intake(runtime) >= 1
        assert "an alert arrived" in _setup(client, admin)["steps"][-1]["detail"]
        drain(w)
        pages = [json.loads(g.body) for g in got[before:]]
        assert any("Test alert from Tocsin" in json.dumps(p) for p in pages)

    final = _setup(client, admin)
    assert final["done"] and final["next_step"] is None
    page = client.get("/").text
    assert "Setup complete" in page and 'data-step="test_alert" data-done="yes"' in page


def test_dismissing_is_per_user_and_stored(client: TestClient, admin: Account,
                                           responder: Account) -> None:
    csrf = web_login(client, responder)
    r = client.post("/setup/dismiss", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert 'id="setup"' not in client.get("/").text
    assert _setup(client, responder)["dismissed"] is True
    assert _setup(client, admin)["dismissed"] is False
    assert 'id="setup"' in client.get("/setup").text  # still reachable on its page
    assert client.post("/setup/dismiss", data={}).status_code == 403  # CSRF like other forms
    r = client.delete("/api/v1/setup/dismiss", headers=responder.headers)
    assert r.status_code == 200 and r.json()["dismissed"] is False
    r = client.post("/api/v1/setup/dismiss", headers=responder.headers)
    assert r.status_code == 200 and r.json()["dismissed"] is True


def test_the_sender_snippet_is_for_admins_only(client: TestClient, admin: Account,
                                               responder: Account) -> None:
    sid = client.post("/api/v1/services", headers=admin.headers,
                      json={"name": "checkout"}).json()["id"]
    client.post("/api/v1/integrations", headers=admin.headers, json={
        "service_id": sid, "kind": "alertmanager", "name": "prometheus"})
    assert _setup(client, admin)["sender"] is not None
    assert _setup(client, responder)["sender"] is None  # the snippet carries the key
