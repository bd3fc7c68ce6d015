"""/respond (checklists, roles) and /webhooks (subscribe, secret shown once, send test,
delivery log) for admins; responders are kept out."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tests.webhooks.test_event_webhooks import deliver, receiver
from tocsin.runtime import Runtime


def test_admin_defines_a_checklist_and_a_role(client: TestClient, admin: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post("/respond/checklists", data={
        "csrf_token": csrf, "name": "SEV1 basics", "severity": "SEV1", "service_id": "",
        "items": "assign comms\n\npage the database SME\n"}, follow_redirects=True)
    assert r.status_code == 200 and "page the database SME" in r.text
    r = client.post("/respond/roles", data={"csrf_token": csrf, "name": "Scribe!",
                                             "description": ""})
    assert r.status_code == 422
    r = client.post("/respond/roles", data={"csrf_token": csrf, "name": "scribe",
                                             "description": "Keep the timeline"},
                    follow_redirects=True)
    assert "Keep the timeline" in r.text
    assert client.get("/api/v1/checklists", headers=admin.headers).json()["items"][0]["items"] == \
        ["assign comms", "page the database SME"]


def test_webhook_page_subscribes_tests_and_shows_the_log(
        client: TestClient, runtime: Runtime, admin: Account) -> None:
    csrf = web_login(client, admin)
    with receiver([503]) as (got, url):
        r = client.post("/webhooks", data={"csrf_token": csrf, "name": "status tool",
                                           "url": url, "severities": "SEV1"})
        assert r.status_code == 201 and "shown once" in r.text
        sub = client.get("/api/v1/webhooks", headers=admin.headers).json()["items"][0]
        assert sub["severities"] == ["SEV1"] and sub["include_drills"] is False
        r = client.post(f"/webhooks/{sub['id']}/test", data={"csrf_token": csrf},
                        follow_redirects=True)
        assert "Test event queued" in r.text
        assert deliver(runtime) == 1
    assert len(got) == 1
    page = client.get("/webhooks").text
    assert "503" in page and "pending" in page  # retried later, the answer logged
    assert client.post("/webhooks", data={"csrf_token": csrf, "name": "x",
                                          "url": "gopher://x"}).status_code == 422
    r = client.post("/webhooks", data={"csrf_token": csrf, "name": "game-day bot",
                                       "url": "https://hooks.example.com/x",
                                       "include_drills": "on"})
    assert r.status_code == 201 and "drills included" in r.text
    subs = client.get("/api/v1/webhooks", headers=admin.headers).json()["items"]
    assert [s["include_drills"] for s in subs] == [False, True]


def test_responders_are_kept_out(client: TestClient, responder: Account) -> None:
    web_login(client, responder)
    assert client.get("/webhooks").status_code == 403
    assert client.get("/respond").status_code == 403
