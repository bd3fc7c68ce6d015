"""Each channel against a real loopback server: signed webhooks (two secrets during a
rotation), Apprise JSON and ntfy targets, and a verification that fails visibly."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, paging_setup, verified_email, worker
from tests.notify.servers import Inbox, http_receiver
from tocsin.notify.webhook.sender import verify as verify_signature
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Inbox, int]) -> Settings:
    return make_settings(database_url=database_url, smtp_port=smtp[1],
                         base_url="http://tocsin.test",
                         webhook_signing_secrets=["new-secret-2026", "old-secret-2025"])


def add(client: TestClient, who: Account, kind: str, address: str) -> dict[str, Any]:
    r = client.post(f"/api/v1/users/{who.id}/contact-methods", headers=who.headers,
                    json={"kind": kind, "address": address})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_webhook_is_signed_with_both_secrets_and_carries_the_ack_link(
        client: TestClient, runtime: Runtime, smtp: tuple[Inbox, int], admin: Account,
        make_account: Any) -> None:
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    verified_email(client, w, smtp[0], bob, "bob@example.com")
    with http_receiver() as (got, url):
        method = add(client, alice, "webhook", f"{url}/hook")
        drain(w)
        code = json.loads(got[0].body)["code"]
        assert client.post(f"/api/v1/contact-methods/{method['id']}/verify",
                           headers=alice.headers, json={"code": code}).status_code == 200
        setup = paging_setup(client, admin, alice, bob)
        iid = client.post("/api/v1/incidents", headers=admin.headers, json={
            "title": "API down", "severity": "SEV1",
            "service_ids": [setup["service"]["id"]]}).json()["id"]
        drain(w)
        page = got[-1]
    body = json.loads(page.body)
    assert body["incident_id"] == iid and body["ack_url"].startswith("http://tocsin.test/ack/")
    header = page.headers["X-Tocsin-Signature"]
    assert verify_signature(page.body, header, "new-secret-2026")
    assert verify_signature(page.body, header, "old-secret-2025")
    assert not verify_signature(page.body, header, "some-other-secret")
    assert not verify_signature(page.body + b" ", header, "new-secret-2026")
    assert page.headers["Idempotency-Key"].startswith(f"inc{iid}:")


def test_apprise_json_and_ntfy_targets_reach_loopback(client: TestClient, runtime: Runtime,
                                                      admin: Account) -> None:
    w = worker(runtime)
    with http_receiver() as (got, url):
        port = url.rsplit(":", 1)[1]
        as_json = add(client, admin, "apprise", f"json://127.0.0.1:{port}/apprise")
        ntfy = add(client, admin, "ntfy", f"ntfy://127.0.0.1:{port}/tocsin-pages")
        drain(w)
        by_path = {r.path: r.body.decode() for r in got}
    assert len(got) == 2
    # Apprise's JSON target posts to its path; ntfy posts to / with the topic in the body.
    assert set(by_path) == {"/apprise", "/"}
    assert "tocsin-pages" in by_path["/"]
    assert all("verification code" in t for t in by_path.values())
    assert as_json["kind"] == "apprise" and ntfy["kind"] == "ntfy"


def test_verification_that_cannot_be_delivered_is_shown(client: TestClient, runtime: Runtime,
                                                        admin: Account) -> None:
    w = worker(runtime)
    with http_receiver(status=410) as (got, url):
        method = add(client, admin, "webhook", f"{url}/gone")
        drain(w)
    assert len(got) == 1
    listed = client.get(f"/api/v1/users/{admin.id}/contact-methods",
                        headers=admin.headers).json()["items"]
    assert listed[0]["id"] == method["id"] and listed[0]["verified"] is False
    assert "answered 410" in listed[0]["verification_error"]


def test_bad_addresses_are_refused(client: TestClient, admin: Account,
                                   responder: Account) -> None:
    for kind, address, words in [
        ("email", "not-an-address", "not an email address"),
        ("webhook", "ftp://x", "http:// or https://"),
        ("ntfy", "slack://a/b/c", "starting with ntfy://"),
        ("apprise", "nosuchscheme://x", "not an Apprise URL"),
    ]:
        r = client.post(f"/api/v1/users/{admin.id}/contact-methods", headers=admin.headers,
                        json={"kind": kind, "address": address})
        assert r.status_code == 422 and words in r.json()["detail"], (kind, r.text)
    r = client.post(f"/api/v1/users/{admin.id}/contact-methods", headers=responder.headers,
                    json={"kind": "email", "address": "x@example.com"})
    assert r.status_code == 403
    assert client.get(f"/api/v1/users/{admin.id}/contact-methods",
                      headers=admin.headers).json()["items"] == []
