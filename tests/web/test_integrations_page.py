"""Integrations page: create (bad input kept), disable/enable, rotate the key; a malformed
page address answers with a page, not JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def test_create_disable_rotate(client: TestClient, admin: Account, responder: Account) -> None:
    client.post("/api/v1/services", json={"name": "api"}, headers=admin.headers)
    csrf = web_login(client, admin)
    r = client.post("/integrations", data={"csrf_token": csrf, "name": "Hooks",
                                           "kind": "generic", "service_id": "1"})
    assert r.status_code == 422 and 'id="title_path-error"' in r.text  # generic needs a title
    assert 'value="Hooks"' in r.text
    r = client.post("/integrations", data={"csrf_token": csrf, "name": "Hooks",
                                           "kind": "generic", "service_id": "1",
                                           "title_path": "$.title"}, follow_redirects=False)
    assert r.status_code == 303
    first = client.get("/api/v1/integrations", headers=admin.headers).json()["items"][0]
    assert first["url"] in client.get("/integrations").text

    client.post(f"/integrations/{first['id']}", data={"csrf_token": csrf, "action": "disable"})
    assert client.get("/api/v1/integrations", headers=admin.headers).json()["items"][0]["enabled"] is False
    client.post(f"/integrations/{first['id']}", data={"csrf_token": csrf, "action": "enable"})
    client.post(f"/integrations/{first['id']}", data={"csrf_token": csrf, "action": "rotate"})
    after = client.get("/api/v1/integrations", headers=admin.headers).json()["items"][0]
    assert after["enabled"] is True and after["key"] != first["key"]

    responder_client = TestClient(client.app)
    web_login(responder_client, responder)
    assert responder_client.get("/integrations").status_code == 403


def test_malformed_address_is_a_page(client: TestClient, responder: Account) -> None:
    web_login(client, responder)
    r = client.get("/incidents/not-a-number")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
