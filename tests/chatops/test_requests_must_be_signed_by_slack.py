"""A bad or old (over 5 minutes) signature: 401, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.chatops.conftest import SlackPoster
from tests.chatops.slack_standin import Slack, command_form, event_body
from tests.conftest import Account
from tocsin.chatops.models import ChatCall, InboundSeen
from tocsin.runtime import Runtime


def _rows(runtime: Runtime) -> tuple[int, int]:
    with runtime.read_sessions() as session:
        return (session.scalar(select(func.count()).select_from(ChatCall)) or 0,
                session.scalar(select(func.count()).select_from(InboundSeen)) or 0)


@pytest.mark.parametrize("how", [{"secret": "not-the-signing-secret"}, {"age": 301},
                                 {"age": -301}])
def test_bad_or_old_signature_is_refused_and_changes_nothing(
        post: SlackPoster, slack: Slack, runtime: Runtime, responder: Account,
        linked: Callable[[Account], str], how: dict[str, object]) -> None:
    rui = linked(responder)
    before = _rows(runtime)
    r = post.command(command_form(slack, text="declare Outage", user=rui, channel="C1"),
                     **how)
    assert r.status_code == 401
    e = post.event(event_body(slack, {"type": "pin_added", "item": {}}), **how)
    assert e.status_code == 401
    assert _rows(runtime) == before and not slack.views


def test_signature_a_little_old_is_still_accepted(post: SlackPoster, slack: Slack) -> None:
    r = post.command(command_form(slack, text="help", user="U1", channel="C1"), age=290)
    assert r.status_code == 200 and "commands" in r.json()["text"]


def test_unsigned_request_is_refused(client: TestClient) -> None:
    r = client.post("/api/v1/inbound/slack/commands", content=b"text=help",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 401


def test_url_verification_challenge_is_answered(post: SlackPoster) -> None:
    r = post.event({"type": "url_verification", "token": "x", "challenge": "c4ll3ng3"})
    assert r.json() == {"challenge": "c4ll3ng3"}


def test_without_signing_secret_nothing_is_accepted(
        make_settings: Callable[..., object], database_url: str) -> None:
    from tocsin.app import create_app
    from tocsin.clock import FrozenClock
    from tocsin.wiring import build_runtime
    rt = build_runtime(make_settings(database_url=database_url), FrozenClock())  # type: ignore[arg-type]
    try:
        with TestClient(create_app(rt)) as c:
            assert c.post("/api/v1/inbound/slack/events", content=b"{}").status_code == 401
    finally:
        rt.close()
