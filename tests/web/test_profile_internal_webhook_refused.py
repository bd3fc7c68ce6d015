"""My profile: a webhook to an internal address is refused at the address field with the
reason, and nothing is stored or sent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.notify import service as notify
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url, outbound_allow=[])


def test_webhook_to_cloud_metadata_is_refused_at_the_field(client: TestClient,
                                                           runtime: Runtime,
                                                           responder: Account) -> None:
    csrf = web_login(client, responder)
    r = client.post("/me/contact-methods", data={
        "csrf_token": csrf, "kind": "webhook",
        "address": "http://169.254.169.254/latest/meta-data/iam/"})
    assert r.status_code == 422 and 'id="address-error"' in r.text
    assert "169.254.169.254 is a link-local address" in r.text
    assert "outbound_allow" in r.text
    with runtime.sessions() as session:
        assert notify.contact_methods_of(session, responder.id) == []
