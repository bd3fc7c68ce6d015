"""Alert messages with buttons in the service's channel: a press acts as the linked Tocsin
user, is refused without the right, and the message is updated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.chatops.conftest import SlackPoster, drain
from tests.chatops.slack_standin import Slack, button_press
from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def _alert_setup(client: TestClient, admin: Account, slack: Slack,
                 make_incident: Callable[..., dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    alerts = slack.add_channel("checkout-alerts")
    svc = client.post("/api/v1/services", json={"name": "checkout"}, headers=admin.headers)
    assert svc.status_code == 201, svc.text
    r = client.post("/api/v1/chatops/channel-maps", headers=admin.headers,
                    json={"channel_id": alerts, "service_id": svc.json()["id"]})
    assert r.status_code == 201, r.text
    return alerts, make_incident(title="Checkout 500s", severity="SEV3",
                                 service_ids=[svc.json()["id"]])


def _buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def test_acknowledge_button_acknowledges_as_mapped_user_and_updates_message(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        make_incident: Callable[..., dict[str, Any]],
        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    alerts, incident = _alert_setup(client, admin, slack, make_incident)
    drain(runtime, clock)
    [message] = slack.channels[alerts].messages
    assert _buttons(message) == ["tocsin_ack", "tocsin_resolve", "tocsin_escalate",
                                 "tocsin_open"]
    assert not [c for c in slack.channels.values() if c.name.startswith("inc-")]  # SEV3

    r = post.interaction(button_press(slack, user=rui, channel=alerts, ts=message["ts"],
                                      action_id="tocsin_ack", value=str(incident["id"])))
    assert r.status_code == 200
    now = client.get(f"/api/v1/incidents/{incident['id']}", headers=admin.headers).json()
    assert now["status"] == "acknowledged" and now["acknowledged_by_id"] == responder.id
    drain(runtime, clock)
    [message] = slack.channels[alerts].messages
    assert "acknowledged" in message["text"] and "tocsin_ack" not in _buttons(message)
    [told] = slack.ok_calls("chat.postEphemeral")
    assert told.args["user"] == rui and "acknowledged" in told.args["text"]


def test_press_by_a_viewer_is_refused_and_changes_nothing(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, viewer: Account,
        make_incident: Callable[..., dict[str, Any]],
        linked: Callable[[Account], str]) -> None:
    vera = linked(viewer)
    alerts, incident = _alert_setup(client, admin, slack, make_incident)
    drain(runtime, clock)
    [message] = slack.channels[alerts].messages
    post.interaction(button_press(slack, user=vera, channel=alerts, ts=message["ts"],
                                  action_id="tocsin_resolve", value=str(incident["id"])))
    now = client.get(f"/api/v1/incidents/{incident['id']}", headers=admin.headers).json()
    assert now["status"] == "triggered"
    drain(runtime, clock)
    [told] = slack.ok_calls("chat.postEphemeral")
    assert told.args["text"].startswith("Refused") and "responder" in told.args["text"]


def test_press_by_unknown_slack_user_looks_them_up_by_verified_email(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    alerts, incident = _alert_setup(client, admin, slack, make_incident)
    drain(runtime, clock)
    rui = slack.add_user(responder.user.email)
    [message] = slack.channels[alerts].messages
    press = button_press(slack, user=rui, channel=alerts, ts=message["ts"],
                         action_id="tocsin_ack", value=str(incident["id"]))
    post.interaction(press)
    assert client.get(f"/api/v1/incidents/{incident['id']}",
                      headers=admin.headers).json()["status"] == "triggered"
    drain(runtime, clock)  # users.info: confirmed email matches → linked
    post.interaction({**press, "trigger_id": slack.trigger()})
    now = client.get(f"/api/v1/incidents/{incident['id']}", headers=admin.headers).json()
    assert now["acknowledged_by_id"] == responder.id


def test_unconfirmed_email_links_nobody(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account) -> None:
    slack.add_user(responder.user.email, confirmed=False)
    client.post("/api/v1/chatops/user-links/lookups", headers=admin.headers)
    drain(runtime, clock)
    assert client.get("/api/v1/chatops/user-links", headers=admin.headers).json()["items"] == []


def test_one_time_link_from_chat_links_the_signed_in_user(
        post: SlackPoster, slack: Slack, client: TestClient, responder: Account) -> None:
    somebody = slack.add_user("private@elsewhere.test")
    r = post.command({"user_id": somebody, "channel_id": "C1", "text": "link",
                      "trigger_id": slack.trigger(), "command": "/incident"})
    token = r.json()["text"].split("token=")[1].split()[0]
    linked = client.post("/api/v1/chatops/link", json={"token": token},
                         headers=responder.headers)
    assert linked.status_code == 201, linked.text
    assert linked.json()["external_id"] == somebody and linked.json()["via"] == "link"
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    forged = client.post("/api/v1/chatops/link", json={"token": flipped},
                         headers=responder.headers)
    assert forged.status_code == 422
