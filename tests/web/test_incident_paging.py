"""Paging from the incident page: a person with a verified contact method is paged and the
page shows it with its delivery state; someone unreachable is reported, not hidden."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.notify.schemas import ContactMethodIn
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime


def _reachable(runtime: Runtime, account: Account) -> None:
    actor = Principal(user_id=account.id, role=Role.RESPONDER)
    with runtime.sessions() as session, session.begin():
        method = notify.add_contact_method(
            session, actor=actor, user_id=account.id, now=runtime.clock.now(),
            outbound=runtime.settings.outbound_policy,
            data=ContactMethodIn(kind=ChannelKind.EMAIL, address="sme@example.com"))
        assert method.verify_code
        notify.verify(session, method=method, code=method.verify_code, now=runtime.clock.now())


def test_page_a_person_and_see_the_page(client: TestClient, runtime: Runtime,
                                        responder: Account, make_account: Any,
                                        make_incident: Any) -> None:
    expert = make_account(name="Sam Expert")
    loner = make_account(name="Lou Unreachable")
    _reachable(runtime, expert)
    iid = make_incident(title="Replication lag", severity="SEV2")["id"]
    csrf = web_login(client, responder)

    r = client.post(f"/incidents/{iid}/page", data={"csrf_token": csrf, "form": "page",
                                                    "page_user_id": str(expert.id),
                                                    "page_note": "DB replication expert"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/incidents/{iid}").text
    assert "Paged 1 person." in page
    assert 'id="pages-h"' in page and "Sam Expert" in page

    r = client.post(f"/incidents/{iid}/page", data={"csrf_token": csrf, "form": "page",
                                                    "page_user_id": str(loner.id)},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/incidents/{iid}").text
    assert "Nobody could be paged" in page and "NO ONE COULD BE PAGED" in page

    r = client.post(f"/incidents/{iid}/page", data={"csrf_token": csrf, "form": "page"})
    assert r.status_code == 422 and "to page" in r.text


def test_viewer_cannot_page(client: TestClient, viewer: Account, make_incident: Any) -> None:
    iid = make_incident(title="x")["id"]
    csrf = web_login(client, viewer)
    r = client.post(f"/incidents/{iid}/page", data={"csrf_token": csrf, "page_user_id": "1"})
    assert r.status_code == 403
    assert 'id="pages-h"' not in client.get(f"/incidents/{iid}").text
