"""A webhook subscriber confirms through the link posted to it, then receives each update
as signed JSON (X-Tocsin-Signature, HMAC-SHA256 of the body)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, worker
from tests.notify.servers import http_receiver
from tests.statuspages.helpers import page
from tocsin.notify.webhook.sender import HEADER, verify
from tocsin.runtime import Runtime
from tocsin.settings import Settings

SECRET = "status-signing-secret"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Any, int]) -> Settings:
    return make_settings(database_url=database_url, smtp_port=smtp[1],
                         base_url="http://tocsin.test", webhook_signing_secrets=[SECRET])


def test_webhook_subscriber_confirms_and_gets_signed_updates(
        client: TestClient, runtime: Runtime, admin: Account) -> None:
    w = worker(runtime)
    p = page(client, admin)
    with http_receiver() as (got, url):
        r = client.post("/status/acme/subscribe", json={"kind": "webhook", "address": url})
        assert r.status_code == 202, r.text
        drain(w)
        [confirm] = got
        assert verify(confirm.body, confirm.headers[HEADER], SECRET)
        body = json.loads(confirm.body)
        assert body["event"] == "subscription.confirm"
        assert client.get(urlsplit(body["confirm_url"]).path).status_code == 200

        r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                        json={"title": "Queue delays", "stage": "identified",
                              "body": "A stuck consumer; restarting it."})
        assert r.status_code == 201, r.text
        drain(w)
        update = got[-1]
        assert verify(update.body, update.headers[HEADER], SECRET)
        data = json.loads(update.body)
        assert (data["event"], data["title"], data["stage"]) == (
            "incident.update", "Queue delays", "identified")
        assert data["unsubscribe_url"].startswith("http://tocsin.test/status/acme/unsubscribe/")
    r = client.post("/status/acme/subscribe", json={"kind": "webhook",
                                                    "address": "ftp://example.com/x"})
    assert r.status_code == 422
