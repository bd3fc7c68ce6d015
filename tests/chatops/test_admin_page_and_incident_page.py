"""The chat-ops admin page maps channels and links people; the one-time link page links the
signed-in person; the incident page shows its chat channel."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.chatops.conftest import SlackPoster
from tests.chatops.helpers import declared_with_channel
from tests.chatops.slack_standin import Slack
from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_admin_maps_a_channel_and_links_a_person(client: TestClient, admin: Account,
                                                 responder: Account) -> None:
    svc = client.post("/api/v1/services", json={"name": "checkout"},
                      headers=admin.headers).json()["id"]
    csrf = web_login(client, admin)
    page = client.get("/chatops")
    assert page.status_code == 200 and "Slack request URLs" in page.text
    r = client.post("/chatops/maps", data={"csrf_token": csrf, "platform": "slack",
                                           "channel": "C0ALERTS", "service_id": str(svc)},
                    follow_redirects=False)
    assert r.status_code == 303
    bad = client.post("/chatops/maps", data={"csrf_token": csrf, "platform": "slack",
                                             "channel": "C1"})
    assert bad.status_code == 422  # neither a team nor a service
    r = client.post("/chatops/links", data={"csrf_token": csrf, "link_platform": "slack",
                                            "external_id": "U0RUI", "user_id": str(responder.id)},
                    follow_redirects=False)
    assert r.status_code == 303
    maps = client.get("/api/v1/chatops/channel-maps", headers=admin.headers).json()["items"]
    links = client.get("/api/v1/chatops/user-links", headers=admin.headers).json()["items"]
    assert [(m["channel_id"], m["service_id"]) for m in maps] == [("C0ALERTS", svc)]
    assert [(x["external_id"], x["user_id"], x["via"]) for x in links] == [
        ("U0RUI", responder.id, "admin")]
    assert "C0ALERTS" in client.get("/chatops").text

    other = TestClient(client.app)
    web_login(other, responder)
    assert other.get("/chatops").status_code == 403


def test_link_page_links_the_signed_in_person(post: SlackPoster, slack: Slack,
                                              client: TestClient, admin: Account,
                                              responder: Account) -> None:
    somebody = slack.add_user("rui.personal@elsewhere.test")
    r = post.command({"user_id": somebody, "channel_id": "C1", "text": "link",
                      "trigger_id": slack.trigger(), "command": "/incident"})
    url = r.json()["text"].split(": ", 1)[1].split()[0]
    path = url[len("http://tocsin.test"):]
    csrf = web_login(client, responder)
    assert "Link my account" in client.get(path).text
    token = path.split("token=")[1]
    done = client.post("/chatops/link", data={"csrf_token": csrf, "token": token},
                       follow_redirects=False)
    assert done.status_code == 303
    links = client.get("/api/v1/chatops/user-links", headers=admin.headers).json()["items"]
    assert [(x["external_id"], x["user_id"]) for x in links] == [(somebody, responder.id)]


def test_incident_page_shows_its_channel(post: SlackPoster, slack: Slack, client: TestClient,
                                        runtime: Runtime, clock: FrozenClock, admin: Account,
                                        responder: Account,
                                        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)
    web_login(client, responder)
    page = client.get(f"/incidents/{incident['id']}").text
    assert f"#{channel.name}" in page and f"channel={channel.id}" in page
