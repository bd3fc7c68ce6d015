"""In the incident channel: a pinned or reacted message becomes a timeline entry with its
author; commands act on the channel's incident; Tocsin's changes are posted back."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.chatops.conftest import RecordingStatusPage, SlackPoster, drain
from tests.chatops.helpers import declared_with_channel
from tests.chatops.slack_standin import Slack, command_form, event_body
from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def _timeline(client: TestClient, admin: Account, incident_id: int) -> list[dict[str, object]]:
    r = client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=admin.headers)
    assert r.status_code == 200, r.text
    entries: list[dict[str, object]] = r.json()
    return entries


def test_pinned_message_becomes_timeline_entry_with_its_author(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        make_account: Callable[..., Account], linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    tess = make_account(name="Tess Tech")
    tess_slack = linked(tess)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)
    said = {"type": "message", "ts": "1765000999.000100", "user": tess_slack,
            "text": "Rolled back deploy 4512; error rate falling"}
    channel.messages.append(said)
    event = event_body(slack, {"type": "pin_added", "user": rui, "channel_id": channel.id,
                               "item": {"type": "message", "channel": channel.id,
                                        "message": said}, "event_ts": "1765001000.1"})
    assert post.event(event).status_code == 200
    assert post.event(event, retry=1).status_code == 200  # Slack's retry: no second entry
    notes = [e for e in _timeline(client, admin, incident["id"]) if e["kind"] == "note"]
    assert len(notes) == 1
    assert "Rolled back deploy 4512" in str(notes[0]["body"])
    assert notes[0]["actor_id"] == tess.id
    drain(runtime, clock)
    # Not echoed back into the channel it came from.
    assert sum("Rolled back" in str(m["text"]) for m in channel.messages) == 1


def test_reaction_with_configured_emoji_fetches_message_into_timeline(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)
    said = {"type": "message", "ts": "1765000999.000200", "user": rui,
            "text": "Hypothesis: the card processor's TLS cert expired"}
    channel.messages.append(said)
    for emoji in ("eyes", "pushpin"):
        post.event(event_body(slack, {"type": "reaction_added", "user": rui,
                                      "reaction": emoji, "item_user": rui,
                                      "item": {"type": "message", "channel": channel.id,
                                               "ts": said["ts"]}}))
    drain(runtime, clock)
    notes = [e for e in _timeline(client, admin, incident["id"]) if e["kind"] == "note"]
    assert [("card processor" in str(n["body"]), n["actor_id"]) for n in notes] == [
        (True, responder.id)]


def test_message_shortcut_adds_to_timeline(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)
    post.interaction({"type": "message_action", "callback_id": "tocsin_timeline",
                      "user": {"id": rui}, "channel": {"id": channel.id},
                      "trigger_id": slack.trigger(), "response_url": "https://x",
                      "message": {"type": "message", "user": rui, "ts": "1765000999.000300",
                                  "text": "Decided to fail over to eu-west"}})
    notes = [e for e in _timeline(client, admin, incident["id"]) if e["kind"] == "note"]
    assert len(notes) == 1 and "fail over" in str(notes[0]["body"])


def test_resolve_in_channel_updates_timeline_status_page_and_channel(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        linked: Callable[[Account], str], status_page: RecordingStatusPage) -> None:
    rui = linked(responder)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin, status_page=status_page)
    r = post.command(command_form(slack, text="resolve rolled back the deploy", user=rui,
                                  channel=channel.id))
    assert r.json()["text"] == f"INC-{incident['id']} resolved."
    assert status_page.resolved == [incident["id"]]
    kinds = [e["kind"] for e in _timeline(client, admin, incident["id"])]
    assert "resolved" in kinds and kinds.count("status_changed") == 1
    now = client.get(f"/api/v1/incidents/{incident['id']}", headers=admin.headers).json()
    assert now["status"] == "resolved"
    assert now["resolution_summary"] == "rolled back the deploy"
    drain(runtime, clock, status_page)
    assert any("status changed*: resolved" in str(m["text"]) for m in channel.messages)
    summary = next(m for m in channel.messages if m["ts"] == channel.pins[0])
    assert "resolved" in summary["text"] and channel.topic.startswith("SEV2 · resolved")


def test_commands_act_on_the_channels_incident(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        make_account: Callable[..., Account], linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    cara = make_account(name="Cara Comms")
    cara_slack = linked(cara)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)

    def say(text: str) -> str:
        answer: str = post.command(command_form(slack, text=text, user=rui,
                                                channel=channel.id)).json()["text"]
        return answer

    assert say("ack").endswith("acknowledged.")
    assert "already" in say("ack")
    assert say("severity SEV1 checkout fully down").endswith("is now SEV1.")
    assert "assigned" in say(f"role comms <@{cara_slack}|cara>")
    assert "Added" in say("note cache flushed")
    assert "Added" in say("update mitigation in progress, next update 15 min")
    assert "SEV1" in say("status") and "acknowledged" in say("status")
    assert say("frobnicate").startswith("Unknown command `frobnicate`")
    assert "*/incident* commands" in say("help")
    now = client.get(f"/api/v1/incidents/{incident['id']}", headers=admin.headers).json()
    assert (now["status"], now["severity"], now["comms_lead_id"], now["commander_id"]) == (
        "acknowledged", "SEV1", cara.id, responder.id)
    drain(runtime, clock)
    texts = [str(m["text"]) for m in channel.messages]
    assert any("cache flushed" in t for t in texts)
    assert any("Status update: mitigation" in t for t in texts)
    assert cara_slack in channel.members  # a new role holder is invited
    assert channel.topic.startswith("SEV1 · acknowledged · IC: Rui Responder")


def test_command_in_a_channel_without_incident_says_so(
        post: SlackPoster, slack: Slack, responder: Account,
        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    general = slack.add_channel("random")
    r = post.command(command_form(slack, text="resolve", user=rui, channel=general))
    assert "no incident in this channel" in r.json()["text"]
