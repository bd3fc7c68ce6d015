"""Socket Mode: slack_sdk's SocketModeClient connects to the stand-in's websocket (the URL
apps.connections.open gives) and the same flows work over it: declare → modal → incident and
channel; Acknowledge button; pinned message → timeline; resolve → status page and timeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.chatops.conftest import RecordingStatusPage, drain
from tests.chatops.slack_standin import (
    Slack,
    SocketSide,
    button_press,
    command_form,
    event_body,
    submission,
    wait_for,
)
from tests.conftest import Account
from tocsin.chatops import socket
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


@pytest.fixture
def connected(runtime: Runtime, standin: tuple[Slack, SocketSide],
              status_page: RecordingStatusPage) -> Iterator[SocketSide]:
    client = socket.connect(runtime, status_pages=status_page)
    try:
        assert standin[1].connected(), "the client never connected"
        yield standin[1]
    finally:
        client.close()


def test_declare_ack_pin_and_resolve_over_socket_mode(
        connected: SocketSide, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        linked: Callable[[Account], str], status_page: RecordingStatusPage) -> None:
    assert [c.ok for c in slack.calls if c.method == "apps.connections.open"] == [True]
    rui = linked(responder)
    general = slack.add_channel("general")
    ack = connected.send("slash_commands", command_form(slack, text="declare Search is slow",
                                                        user=rui, channel=general))
    assert "declare form" in ack["payload"]["text"]
    wait_for(lambda: slack.views)  # views.open goes right after the ack
    view_id = next(iter(slack.views))
    form = submission(slack, view_id=view_id, user=rui,
                      values={"title": "Search is slow", "severity": "SEV2"})
    connected.send("interactive", form)
    connected.send("interactive", form)  # redelivered: still one incident
    incidents = client.get("/api/v1/incidents", headers=admin.headers).json()["items"]
    assert [i["title"] for i in incidents] == ["Search is slow"]
    incident_id = incidents[0]["id"]
    drain(runtime, clock, status_page)
    channel = slack.channel_named("inc-20260105-search-is-slow")
    assert channel.topic.startswith("SEV2 · triggered") and rui in channel.members
    assert channel.pins

    connected.send("interactive", button_press(slack, user=rui, channel=channel.id,
                                               ts=channel.pins[0], action_id="tocsin_ack",
                                               value=str(incident_id)))
    shown = client.get(f"/api/v1/incidents/{incident_id}", headers=admin.headers).json()
    assert shown["status"] == "acknowledged" and shown["acknowledged_by_id"] == responder.id

    said = {"type": "message", "ts": "1765000999.000500", "user": rui,
            "text": "Index rebuild started"}
    channel.messages.append(said)
    connected.send("events_api", event_body(slack, {
        "type": "pin_added", "user": rui, "channel_id": channel.id,
        "item": {"type": "message", "channel": channel.id, "message": said}}))
    timeline = client.get(f"/api/v1/incidents/{incident_id}/timeline",
                          headers=admin.headers).json()
    assert any(e["kind"] == "note" and "Index rebuild" in e["body"] for e in timeline)

    done = connected.send("slash_commands", command_form(slack, text="resolve", user=rui,
                                                         channel=channel.id))
    assert done["payload"]["text"].endswith("resolved.")
    assert status_page.resolved == [incident_id]
    timeline = client.get(f"/api/v1/incidents/{incident_id}/timeline",
                          headers=admin.headers).json()
    assert "resolved" in [e["kind"] for e in timeline]
    drain(runtime, clock, status_page)
    assert channel.topic.startswith("SEV2 · resolved")
