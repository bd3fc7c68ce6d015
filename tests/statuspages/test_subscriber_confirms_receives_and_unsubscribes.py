"""An email subscriber confirms (double opt-in), receives an update through the outbox over
real SMTP with a one-click unsubscribe, unsubscribes in one click and receives no more."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, worker
from tests.notify.servers import Inbox, body_of
from tests.statuspages.helpers import component, page, service
from tocsin.runtime import Runtime


def _path(url: str) -> str:
    return urlsplit(url).path


def _post_update(client: TestClient, admin: Account, page_id: int, post_id: int, stage: str,
                 body: str) -> None:
    r = client.post(f"/api/v1/statuspages/{page_id}/posts/{post_id}/updates",
                    headers=admin.headers, json={"stage": stage, "body": body})
    assert r.status_code == 201, r.text


def test_subscriber_confirms_receives_an_update_and_unsubscribes_in_one_click(
        client: TestClient, runtime: Runtime, admin: Account,
        smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    p = page(client, admin)
    api = component(client, admin, p["id"], "API", [service(client, admin, "api")])
    web = component(client, admin, p["id"], "Web", [service(client, admin, "web")])

    r = client.post("/status/acme/subscribe", json={"address": "Reader@Example.com",
                                                    "component_ids": [api]})
    assert r.status_code == 202, r.text
    # The page's own form works too (no JavaScript): another reader, all components.
    r = client.post("/status/acme/subscribe", data={"email": "all@example.com"})
    assert r.status_code == 202 and "Check your inbox" in r.text
    r = client.post("/status/acme/subscribe", data={"email": "web@example.com",
                                                    "component": [str(web)]})
    assert r.status_code == 202
    subs = {s["address"]: s for s in client.get(f"/api/v1/statuspages/{p['id']}/subscribers",
                                                headers=admin.headers).json()["items"]}
    assert subs["web@example.com"]["component_ids"] == [web]
    assert subs["reader@example.com"]["component_ids"] == [api]
    drain(w)
    [mail] = inbox.to("reader@example.com")
    confirm = re.search(r"Confirm: (\S+)", body_of(mail))
    assert confirm is not None

    # Before confirming, an update sends nothing to the reader.
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                    json={"title": "Slow API", "stage": "investigating", "body": "Looking.",
                          "component_ids": [api]})
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    drain(w)
    assert len(inbox.to("reader@example.com")) == 1

    r = client.get(_path(confirm.group(1)))
    assert r.status_code == 200 and "Subscribed" in r.text
    _post_update(client, admin, p["id"], post_id, "identified", "A bad deploy; rolling back.")
    drain(w)
    update = inbox.to("reader@example.com")[-1]
    assert "Identified" in update["Subject"] and "Slow API" in update["Subject"]
    assert "rolling back" in body_of(update)
    unsub = re.fullmatch(r"<(\S+)>", update["List-Unsubscribe"])
    assert unsub is not None
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # An update on another component does not reach a reader who chose only the API.
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers,
                    json={"title": "Web slow", "stage": "investigating", "body": "Hm.",
                          "component_ids": [web]})
    drain(w)
    assert [m["Subject"] for m in inbox.to("reader@example.com")][-1] == update["Subject"]
    assert any("Web slow" in m["Subject"] for m in inbox.to("all@example.com")) is False  # unconfirmed

    # One click: the POST a mail client makes (RFC 8058); a scanner's GET changes nothing.
    assert client.get(_path(unsub.group(1))).status_code == 200
    r = client.post(_path(unsub.group(1)), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "Unsubscribed" in r.text
    _post_update(client, admin, p["id"], post_id, "resolved", "Rolled back; all good.")
    drain(w)
    assert not any("Resolved" in m["Subject"] for m in inbox.to("reader@example.com"))
    # Each mail went out once.
    subjects = [m["Subject"] for m in inbox.to("reader@example.com")]
    assert len(subjects) == len(set(subjects)) == 2


def test_subscribing_is_limited_and_bad_addresses_refused(client: TestClient, admin: Account,
                                                          ) -> None:
    page(client, admin)
    for bad in ("not-an-address", "<script>@x.io", "a@b"):
        r = client.post("/status/acme/subscribe", json={"address": bad})
        assert r.status_code == 422, (bad, r.text)
    r = client.post("/status/acme/subscribe", json={"address": "x@example.com",
                                                    "component_ids": [999]})
    assert r.status_code == 422 and "no component" in r.text
    for _ in range(3):
        assert client.post("/status/acme/subscribe",
                           json={"address": "flood@example.com"}).status_code == 202
    r = client.post("/status/acme/subscribe", json={"address": "flood@example.com"})
    assert r.status_code == 429 and r.headers["Retry-After"]
    for n in range(16):  # 3 above + 17 here = 20 from this client
        assert client.post("/status/acme/subscribe",
                           json={"address": f"r{n}@example.com"}).status_code == 202
    r = client.post("/status/acme/subscribe", json={"address": "one-more@example.com"})
    assert r.status_code == 202
    r = client.post("/status/acme/subscribe", json={"address": "too-many@example.com"})
    assert r.status_code == 429 and "client" in r.text
    # Nobody can list the addresses but an admin.
    assert client.get("/api/v1/statuspages/1/subscribers").status_code == 401
