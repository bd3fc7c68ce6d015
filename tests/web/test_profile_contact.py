"""My profile: contact methods (add, verify, send a test, remove) and rules per urgency."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.notify import service as notify
from tocsin.notify.models import Message
from tocsin.runtime import Runtime


def _messages(runtime: Runtime, kind: str) -> list[Message]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Message).where(Message.kind == kind)))


def test_contact_method_lifecycle_and_rules(client: TestClient, runtime: Runtime,
                                            responder: Account) -> None:
    csrf = web_login(client, responder)
    r = client.post("/me/contact-methods", data={"csrf_token": csrf, "kind": "email",
                                                 "address": "not an address"})
    assert r.status_code == 422 and 'id="address-error"' in r.text
    assert 'value="not an address"' in r.text
    r = client.post("/me/contact-methods", data={"csrf_token": csrf, "kind": "email",
                                                 "address": "rui@example.com",
                                                 "label": "work"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/me").text
    assert "rui@example.com" in page and "not verified" in page
    assert len(_messages(runtime, "verify")) == 1  # the code went out through the outbox

    with runtime.sessions() as session:
        method = notify.contact_methods_of(session, responder.id)[0]
        code, method_id = method.verify_code, method.id
    assert code
    wrong = "000000" if code != "000000" else "111111"
    r = client.post(f"/me/contact-methods/{method_id}/verify",
                    data={"csrf_token": csrf, "code": wrong})
    assert r.status_code == 422 and "wrong verification code" in r.text
    r = client.post(f"/me/contact-methods/{method_id}/verify",
                    data={"csrf_token": csrf, "code": code}, follow_redirects=False)
    assert r.status_code == 303 and "not verified" not in client.get("/me").text

    r = client.post(f"/me/contact-methods/{method_id}/test", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303 and len(_messages(runtime, "test")) == 1

    r = client.post("/me/notification-rules", data={"csrf_token": csrf,
                                                    f"delay_high_{method_id}": "soon"})
    assert r.status_code == 422 and "whole number" in r.text
    r = client.post("/me/notification-rules", data={"csrf_token": csrf,
                                                    f"delay_high_{method_id}": "0",
                                                    f"delay_low_{method_id}": "30"},
                    follow_redirects=False)
    assert r.status_code == 303
    with runtime.sessions() as session:
        rules = {(x.urgency, x.delay_minutes) for x in notify.rules_of(session, responder.id)}
    assert rules == {("high", 0), ("low", 30)}

    r = client.post(f"/me/contact-methods/{method_id}/delete", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303 and "rui@example.com" not in client.get("/me").text


def test_someone_elses_method_is_not_found(client: TestClient, runtime: Runtime,
                                           responder: Account, make_account: object) -> None:
    csrf = web_login(client, responder)
    client.post("/me/contact-methods", data={"csrf_token": csrf, "kind": "email",
                                             "address": "rui@example.com"})
    with runtime.sessions() as session:
        method_id = notify.contact_methods_of(session, responder.id)[0].id
    other = make_account(name="Olga Other")  # type: ignore[operator]
    other_client = TestClient(client.app)
    other_csrf = web_login(other_client, other)
    r = other_client.post(f"/me/contact-methods/{method_id}/delete",
                          data={"csrf_token": other_csrf})
    assert r.status_code == 404
    with runtime.sessions() as session:
        assert len(notify.contact_methods_of(session, responder.id)) == 1
