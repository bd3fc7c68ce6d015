"""Declaring an incident with a channel from Slack, for tests that start from there."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.chatops.conftest import SlackPoster, drain
from tests.chatops.slack_standin import Channel, Slack, command_form, submission
from tests.conftest import Account
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def declared_with_channel(post: SlackPoster, slack: Slack, client: TestClient,
                          runtime: Runtime, clock: FrozenClock, *, user: str, admin: Account,
                          title: str = "Checkout errors", status_page: Any = None
                          ) -> tuple[dict[str, Any], Channel]:
    general = slack.add_channel(f"general-{len(slack.channels)}")
    post.command(command_form(slack, text=f"declare {title}", user=user, channel=general))
    view_id = list(slack.views)[-1]
    post.interaction(submission(slack, view_id=view_id, user=user,
                                values={"title": title, "severity": "SEV2"}))
    drain(runtime, clock, status_page)
    incident = client.get("/api/v1/incidents", headers=admin.headers).json()["items"][0]
    slug = title.lower().replace(" ", "-")
    return incident, slack.channel_named(f"inc-20260105-{slug}")
