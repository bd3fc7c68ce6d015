"""An admin manages another person's contact methods from their user page: add (the code
goes to the method, never to the admin's screen), resend the code, send a test, remove;
bad input keeps the values and names the field. A responder cannot do it for others."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.clock import FrozenClock
from tocsin.notify.models import ContactMethod, Message
from tocsin.runtime import Runtime


def _messages(runtime: Runtime, kind: str) -> list[Message]:
    with runtime.sessions() as s:
        return list(s.scalars(select(Message).where(Message.kind == kind)))


def test_admin_adds_a_method_for_someone_else(client: TestClient, runtime: Runtime,
                                              admin: Account, responder: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post(f"/users/{responder.id}/contact-methods", data={
        "csrf_token": csrf, "kind": "email", "address": "ana@example.org",
        "label": "work"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/users/{responder.id}#contact"
    with runtime.sessions() as s:
        method = s.scalars(select(ContactMethod)).one()
        code = method.verify_code
        assert method.user_id == responder.id and method.verified_at is None
    assert code is not None
    page = client.get(f"/users/{responder.id}").text
    assert "ana@example.org" in page and "awaiting verification" in page
    assert code not in page  # the code went to the method, not to the admin
    [verify] = _messages(runtime, "verify")
    assert verify.contact_method_id == method.id and verify.user_id == responder.id


def test_bad_address_keeps_values_and_names_the_field(client: TestClient, runtime: Runtime,
                                                      admin: Account,
                                                      responder: Account) -> None:
    csrf = web_login(client, admin)
    r = client.post(f"/users/{responder.id}/contact-methods", data={
        "csrf_token": csrf, "kind": "webhook", "address": "not a url", "label": "pager"})
    assert r.status_code == 422
    assert 'id="address-error"' in r.text and 'value="not a url"' in r.text
    assert 'value="pager"' in r.text
    with runtime.sessions() as s:
        assert s.scalars(select(ContactMethod)).all() == []


def test_resend_test_and_remove(client: TestClient, runtime: Runtime, admin: Account,
                                responder: Account) -> None:
    csrf = web_login(client, admin)
    client.post(f"/users/{responder.id}/contact-methods", data={
        "csrf_token": csrf, "kind": "email", "address": "ana@example.org"})
    with runtime.sessions() as s:
        method = s.scalars(select(ContactMethod)).one()
        first_code = method.verify_code
    base = f"/users/{responder.id}/contact-methods/{method.id}"
    r = client.post(f"{base}/resend", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with runtime.sessions() as s:
        again = s.get(ContactMethod, method.id)
        assert again is not None and again.verify_code not in (None, first_code)
    assert len(_messages(runtime, "verify")) == 2
    r = client.post(f"{base}/test", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and len(_messages(runtime, "test")) == 1
    r = client.post(f"{base}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with runtime.sessions() as s:
        assert s.scalars(select(ContactMethod)).all() == []


def test_method_of_another_user_is_not_reachable_through_this_page(
        client: TestClient, runtime: Runtime, admin: Account, responder: Account,
        viewer: Account) -> None:
    csrf = web_login(client, admin)
    client.post(f"/users/{responder.id}/contact-methods", data={
        "csrf_token": csrf, "kind": "email", "address": "ana@example.org"})
    with runtime.sessions() as s:
        mid = s.scalars(select(ContactMethod.id)).one()
    r = client.post(f"/users/{viewer.id}/contact-methods/{mid}/delete",
                    data={"csrf_token": csrf})
    assert r.status_code == 404


def test_responder_cannot_add_for_someone_else(client: TestClient, runtime: Runtime,
                                               admin: Account, responder: Account) -> None:
    csrf = web_login(client, responder)
    r = client.post(f"/users/{admin.id}/contact-methods", data={
        "csrf_token": csrf, "kind": "email", "address": "boss@example.org"})
    assert r.status_code == 403
    with runtime.sessions() as s:
        assert s.scalars(select(ContactMethod)).all() == []


def test_api_resend_for_another_users_method(client: TestClient, runtime: Runtime,
                                             admin: Account, responder: Account) -> None:
    r = client.post(f"/api/v1/users/{responder.id}/contact-methods", headers=admin.headers,
                    json={"kind": "email", "address": "ana@example.org"})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    r = client.post(f"/api/v1/contact-methods/{mid}/resend-code", headers=admin.headers)
    assert r.status_code == 202, r.text
    assert len(_messages(runtime, "verify")) == 2
    other = client.post(f"/api/v1/contact-methods/{mid}/resend-code", headers=responder.headers)
    assert other.status_code == 202  # the owner may too
    assert client.post("/api/v1/contact-methods/999/resend-code",
                       headers=admin.headers).status_code == 404


def test_deactivated_user_is_not_invited(client: TestClient, runtime: Runtime,
                                         clock: FrozenClock, admin: Account,
                                         responder: Account) -> None:
    csrf = web_login(client, admin)

    def invite() -> int:
        clock.advance(minutes=1)  # each invitation is its own message
        r = client.post(f"/users/{responder.id}/invite", data={"csrf_token": csrf},
                        follow_redirects=False)
        assert r.status_code == 303
        return len(_messages(runtime, "invite"))

    assert invite() == 1 and invite() == 2
    r = client.patch(f"/api/v1/users/{responder.id}", headers=admin.headers,
                     json={"active": False})
    assert r.status_code == 200, r.text
    assert invite() == 2


def test_owner_asks_for_a_new_code_on_their_profile(client: TestClient, runtime: Runtime,
                                                    responder: Account) -> None:
    csrf = web_login(client, responder)
    client.post("/me/contact-methods", data={"csrf_token": csrf, "kind": "email",
                                             "address": "me@example.org"})
    with runtime.sessions() as s:
        method = s.scalars(select(ContactMethod)).one()
    assert f"/me/contact-methods/{method.id}/resend-code" in client.get("/me").text
    r = client.post(f"/me/contact-methods/{method.id}/resend-code", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303 and len(_messages(runtime, "verify")) == 2
