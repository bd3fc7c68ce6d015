"""`/incident declare` → modal → submitted → incident, channel with topic and members, pinned
summary; Slack's retry of the submission declares nothing twice."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.chatops.conftest import RecordingStatusPage, SlackPoster, drain
from tests.chatops.slack_standin import BOT_USER, Slack, command_form, submission
from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_declare_opens_form_and_submission_makes_incident_channel_and_pinned_summary(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, responder: Account, admin: Account,
        linked: Callable[[Account], str], status_page: RecordingStatusPage) -> None:
    rui = linked(responder)
    general = slack.add_channel("general")
    r = post.command(command_form(slack, text="declare Checkout errors", user=rui,
                                  channel=general))
    assert r.status_code == 200 and "declare form" in r.json()["text"]
    [opened] = slack.ok_calls("views.open")  # sent right after the answer
    view_id = next(iter(slack.views))
    assert opened.args["view"]["blocks"][0]["element"]["initial_value"] == "Checkout errors"
    options = slack.views[view_id]["blocks"][1]["element"]["options"]
    assert "payments failing" in options[0]["description"]["text"]  # DOMAIN §3 guidance

    form = submission(slack, view_id=view_id, user=rui,
                      values={"title": "Checkout errors", "severity": "SEV1"})
    r = post.interaction(form)
    assert r.status_code == 200 and r.content == b""
    again = post.interaction(form, retry=1)  # Slack retried: X-Slack-Retry-Num
    assert again.status_code == 200
    incidents = client.get("/api/v1/incidents", headers=admin.headers).json()["items"]
    assert [(i["title"], i["severity"], i["reporter_id"]) for i in incidents] == [
        ("Checkout errors", "SEV1", responder.id)]
    drain(runtime, clock, status_page)

    channel = slack.channel_named("inc-20260105-checkout-errors")
    assert channel.name == "inc-20260105-checkout-errors" and not channel.is_private
    assert channel.topic.startswith("SEV1 · triggered")
    assert "status.example.com" in channel.topic
    assert {rui, BOT_USER} <= channel.members
    [pinned] = channel.pins
    summary = next(m for m in channel.messages if m["ts"] == pinned)
    assert "INC-" in summary["text"] and "Checkout errors" in summary["text"]
    assert "next update due" in summary["text"]
    assert any("declared by" in m["text"] for m in slack.channels[general].messages)
    shown = client.get(f"/api/v1/chatops/incidents/{incidents[0]['id']}/channel",
                       headers=admin.headers).json()
    assert shown["channel_id"] == channel.id and shown["name"] == channel.name
    refused = [c for c in slack.calls if not c.ok]  # nothing Slack would refuse, except
    assert {(c.method, c.error) for c in refused} <= {  # the admin, who has no Slack user
        ("users.lookupByEmail", "users_not_found")}


def test_private_incident_gets_private_channel_with_only_members(
        post: SlackPoster, slack: Slack, runtime: Runtime, clock: FrozenClock,
        responder: Account, make_account: Callable[..., Account],
        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    other = linked(make_account(name="Olga Other"))
    general = slack.add_channel("general")
    post.command(command_form(slack, text="declare Data breach", user=rui, channel=general))
    view_id = next(iter(slack.views))
    post.interaction(submission(slack, view_id=view_id, user=rui,
                                values={"title": "Data breach", "severity": "SEV1",
                                        "private": True}))
    drain(runtime, clock)
    channel = slack.channel_named("inc-20260105-data-breach")
    assert channel.is_private and channel.id.startswith("G")
    assert rui in channel.members and other not in channel.members
    assert not any("Data breach" in m["text"] for m in slack.channels[general].messages)


def test_unlinked_person_cannot_declare_and_is_offered_a_link(
        post: SlackPoster, slack: Slack) -> None:
    stranger = slack.add_user("stranger@elsewhere.test")
    r = post.command(command_form(slack, text="declare x", user=stranger, channel="C0"))
    assert "link once" in r.json()["text"] and "/chatops/link?token=" in r.json()["text"]
    assert not slack.views
