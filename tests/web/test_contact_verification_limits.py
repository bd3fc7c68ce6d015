"""The profile page's verify form is held to the same attempt limits as the API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.notify.models import ContactMethod
from tocsin.runtime import Runtime


def test_too_many_wrong_codes_in_the_form_get_429_then_a_new_code_works(
        client: TestClient, runtime: Runtime, responder: Account) -> None:
    csrf = web_login(client, responder)
    r = client.post("/me/contact-methods", data={"csrf_token": csrf, "kind": "email",
                                                 "address": "rui@example.com"},
                    follow_redirects=False)
    assert r.status_code == 303
    with runtime.sessions() as session:
        method = session.scalars(select(ContactMethod)).one()
        method_id, code = method.id, method.verify_code or ""
    wrong = "000000" if code != "000000" else "111111"
    limit = runtime.settings.verify_max_failures_per_method
    statuses = [client.post(f"/me/contact-methods/{method_id}/verify",
                            data={"csrf_token": csrf, "code": wrong}).status_code
                for _ in range(limit)]
    assert statuses == [422] * limit
    r = client.post(f"/me/contact-methods/{method_id}/verify",
                    data={"csrf_token": csrf, "code": code})
    assert r.status_code == 429 and "try again in" in r.text
    assert int(r.headers["Retry-After"]) > 0
    r = client.post(f"/me/contact-methods/{method_id}/resend-code",
                    data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
