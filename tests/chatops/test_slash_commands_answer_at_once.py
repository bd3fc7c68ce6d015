"""Slack's request URLs as `tocsin serve` serves them (the fast lane in front of FastAPI):
signed and size-capped as before; a command's answer waits for no Slack call and, for a
command that only reads, for no writer; what a person waits for (the declare form) goes
right after the answer, the rest is the chat lane's."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.chatops.conftest import SlackPoster
from tests.chatops.helpers import declared_with_channel
from tests.chatops.slack_standin import Slack, command_form, encode_form, signed, wait_for
from tests.conftest import Account
from tests.intake.conftest import serve
from tocsin.chatops.models import CallStatus, ChatCall
from tocsin.clock import FrozenClock
from tocsin.incidents.models import Incident
from tocsin.runtime import Runtime

PATH = "/api/v1/inbound/slack/commands"


def _post(port: int, clock: FrozenClock, form: dict[str, str], **kw: object) -> httpx.Response:
    body = encode_form(form)
    headers = {**signed(body, now=clock.now().timestamp(), **kw),  # type: ignore[arg-type]
               "Content-Type": "application/x-www-form-urlencoded"}
    return httpx.post(f"http://127.0.0.1:{port}{PATH}", content=body, headers=headers,
                      timeout=30)


def test_served_slack_urls_refuse_bad_signatures_and_big_bodies(
        runtime: Runtime, clock: FrozenClock, slack: Slack) -> None:
    user, general = slack.add_user("x@example.com"), slack.add_channel("general")
    with serve(runtime) as port:
        form = command_form(slack, text="help", user=user, channel=general)
        forged = _post(port, clock, form, secret="not-the-signing-secret")
        assert forged.status_code == 401
        assert forged.headers["content-type"] == "application/problem+json"
        assert _post(port, clock, form).json()["text"].startswith("*/incident* commands")
        big = httpx.post(f"http://127.0.0.1:{port}{PATH}",
                         content=b"x" * (runtime.settings.api_max_body_bytes + 1),
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         timeout=30)
        assert big.status_code == 413


def test_commands_answer_without_waiting_for_slack_or_writers(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        linked: Callable[[Account], str]) -> None:
    rui = linked(responder)
    incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                              admin=admin)
    with serve(runtime) as port:
        # A note: answered; its channel post is left to the chat lane, not sent meanwhile.
        sent_before = len(slack.calls)
        answer = _post(port, clock, command_form(slack, text="note rolled back", user=rui,
                                                 channel=channel.id))
        assert answer.json()["text"].startswith("Added to the timeline")
        time.sleep(0.5)
        assert len(slack.calls) == sent_before
        with runtime.read_sessions() as session:
            waiting = [c.purpose for c in session.scalars(select(ChatCall).where(
                ChatCall.status == CallStatus.PENDING.value))]
        assert "timeline.post" in waiting

        # The declare form must open within Slack's 3 s: it goes right after the answer.
        general = slack.add_channel("general-2")
        opened = _post(port, clock, command_form(slack, text="declare Queue backlog",
                                                 user=rui, channel=general))
        assert "declare form" in opened.json()["text"]
        wait_for(lambda: slack.ok_calls("views.open"), timeout=10)

        # `status` reads a snapshot: it answers while a writer holds the incident.
        with runtime.sessions() as writer, writer.begin():
            writer.get(Incident, incident["id"], with_for_update=True)
            started = time.monotonic()
            shown = _post(port, clock, command_form(slack, text="status", user=rui,
                                                    channel=channel.id))
            took = time.monotonic() - started
        assert shown.status_code == 200 and "Checkout errors" in shown.json()["text"]
        assert took < 3


def test_a_read_only_command_from_an_unknown_person_still_looks_them_up(
        post: SlackPoster, slack: Slack, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account,
        linked: Callable[[Account], str]) -> None:
    """`status` reads a snapshot, but an unlinked person is looked up by email: that write
    happens in a transaction of its own, and the answer offers the link meanwhile."""
    rui = linked(responder)
    _incident, channel = declared_with_channel(post, slack, client, runtime, clock, user=rui,
                                               admin=admin)
    stranger = slack.add_user("stranger@example.com")
    answer = post.command(command_form(slack, text="status", user=stranger, channel=channel.id))
    assert "don't know who you are" in answer.json()["text"]
    with runtime.read_sessions() as session:
        lookups = [c.args for c in session.scalars(select(ChatCall).where(
            ChatCall.purpose == "user.info"))]
    assert lookups == [{"user": stranger}]
