"""Every outbound Slack call goes through the chat outbox: Slack's tier limits kept,
Retry-After honoured, failures retried, and a Slack outage never blocks paging."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.chatops.conftest import SlackPoster, drain
from tests.chatops.helpers import declared_with_channel
from tests.chatops.slack_standin import Channel, Refuse, Slack
from tests.conftest import Account
from tocsin.chatops import delivery
from tocsin.chatops.models import ChatCall
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_retry_after_is_honoured(post: SlackPoster, slack: Slack, client: TestClient,
                                 runtime: Runtime, clock: FrozenClock, admin: Account,
                                 responder: Account,
                                 linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    slack.fail_next["conversations.create"] = [
        Refuse("ratelimited", status=429, headers={"Retry-After": "30"})]
    start = clock.now()
    _incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)
    creates = [c for c in slack.calls if c.method == "conversations.create"]
    assert [c.ok for c in creates] == [False, True]
    assert clock.now() - start >= timedelta(seconds=30)  # waited as told, not sooner
    assert channel.pins


def test_slack_outage_delays_chat_but_not_paging(
        slack: Slack, client: TestClient, runtime: Runtime, clock: FrozenClock,
        admin: Account, make_incident: Callable[..., dict[str, Any]]) -> None:
    slack.down = True
    incident = make_incident(title="Database down", severity="SEV1")  # answered: 201
    sent = delivery.send_due(runtime)
    assert sent == 0
    with runtime.read_sessions() as session:
        calls = list(session.scalars(select(ChatCall).order_by(ChatCall.id)))
    # The first call failed and was put back; the run stopped (Slack is down).
    assert calls[0].status == "pending" and calls[0].attempts == 1
    assert sum(c.method == "conversations.create" for c in slack.calls) == 1
    assert client.get(f"/api/v1/incidents/{incident['id']}",
                      headers=admin.headers).json()["status"] == "triggered"
    slack.down = False
    drain(runtime, clock)
    assert slack.channel_named("inc-20260105-database-down").pins


def test_refused_call_fails_without_retrying(slack: Slack, runtime: Runtime,
                                             clock: FrozenClock,
                                             make_incident: Callable[..., dict[str, Any]]
                                             ) -> None:
    slack.fail_next["conversations.create"] = [Refuse("restricted_action")]
    make_incident(title="Cannot make channels", severity="SEV1")
    drain(runtime, clock)
    with runtime.read_sessions() as session:
        calls = {c.purpose: (c.status, c.last_error) for c in session.scalars(select(ChatCall))}
    assert calls["channel.create"] == ("failed", "restricted_action")
    assert calls["channel.topic"][0] == "done" and "skipped" in calls["channel.topic"][1]
    assert sum(c.method == "conversations.create" for c in slack.calls) == 1


def test_taken_channel_name_gets_the_incident_number(
        slack: Slack, runtime: Runtime, clock: FrozenClock,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    slack.channels["C999"] = Channel("C999", "inc-20260105-api-down", False)
    incident = make_incident(title="API down", severity="SEV2")
    drain(runtime, clock)
    assert slack.channel_named(f"inc-20260105-api-down-{incident['id']}")


def test_post_message_keeps_one_per_second_per_channel(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)
    for n in range(5):
        r = client.post(f"/api/v1/incidents/{incident['id']}/entries",
                        headers=responder.headers, json={"kind": "note", "body": f"note {n}"})
        assert r.status_code == 201, r.text
    drain(runtime, clock)
    with runtime.read_sessions() as session:
        times = sorted(c.sent_at for c in session.scalars(select(ChatCall).where(
            ChatCall.method == "chat.postMessage", ChatCall.channel_id == channel.id)))
    assert len(times) >= 6
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(times))

