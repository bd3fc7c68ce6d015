"""Chat-ops fixtures: a Slack stand-in on loopback and a Tocsin configured to use it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.chatops.slack_standin import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    Slack,
    SocketSide,
    encode_form,
    interaction_body,
    signed,
    slack_standin,
)
from tests.conftest import Account
from tocsin.app import create_app
from tocsin.chatops import delivery
from tocsin.chatops.models import CallStatus, ChatCall
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def standin() -> Iterator[tuple[Slack, SocketSide]]:
    with slack_standin() as pair:
        # Generous, as timing bounds in tests are: under a loaded parallel suite a declare
        # once took over Slack's 3 s before its views.open (expired_trigger_id). The 3 s rule
        # itself: test_trigger_ids_expire.py.
        pair[0].trigger_seconds = 30.0
        yield pair


@pytest.fixture
def slack(standin: tuple[Slack, SocketSide]) -> Slack:
    return standin[0]


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             standin: tuple[Slack, SocketSide]) -> Settings:
    return make_settings(database_url=database_url, slack_bot_token=BOT_TOKEN,
                         slack_signing_secret=SIGNING_SECRET, slack_app_token=APP_TOKEN,
                         slack_api_url=standin[0].base_url, base_url="http://tocsin.test")


class RecordingStatusPage:
    """Stands in for status pages (issue 15) behind chat-ops' StatusPagePort."""

    def __init__(self) -> None:
        self.resolved: list[int] = []

    def link_for(self, session: Any, incident: Any, *, base_url: str) -> str | None:
        return f"https://status.example.com/incidents/{incident.id}"

    def on_resolved(self, session: Any, *, incident: Any, now: datetime, base_url: str) -> None:
        self.resolved.append(incident.id)


@pytest.fixture
def status_page() -> RecordingStatusPage:
    return RecordingStatusPage()


@pytest.fixture
def client(runtime: Runtime, status_page: RecordingStatusPage) -> Iterator[TestClient]:
    app = create_app(runtime)
    app.state.chatops_status_pages = status_page
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def drain(runtime: Runtime, clock: FrozenClock, status_page: Any = None,
          rounds: int = 400) -> int:
    """Send every chat call, moving the frozen clock on to each deferred one's due time (as
    the worker would, waiting)."""
    sent = 0
    for _ in range(rounds):
        now_sent = delivery.send_due(runtime, **({"status_pages": status_page}
                                                 if status_page else {}))
        sent += now_sent
        unfinished = ChatCall.status.in_([CallStatus.PENDING.value, CallStatus.SENDING.value])
        with runtime.read_sessions() as session:
            left = session.scalar(select(func.count()).where(unfinished))
            in_flight = session.scalar(select(func.count()).where(
                ChatCall.status == CallStatus.SENDING.value))
            later = session.scalar(select(func.min(ChatCall.due_at)).where(
                ChatCall.status == CallStatus.PENDING.value, ChatCall.due_at > clock.now()))
        if not left:
            return sent
        if in_flight:  # another thread (a request's answer) is sending: let it finish
            time.sleep(0.05)
        elif not now_sent and later is not None:
            clock.set(later)
    with runtime.read_sessions() as session:
        stuck = [(c.id, c.method, c.purpose, c.status, c.last_error) for c in session.scalars(
            select(ChatCall).where(ChatCall.status.in_([CallStatus.PENDING.value,
                                                        CallStatus.SENDING.value])))]
    raise AssertionError(f"chat outbox did not drain: {stuck[:5]}")


class SlackPoster:
    """Posts to Tocsin's Slack request URLs exactly as Slack does (signed)."""

    def __init__(self, client: TestClient, clock: FrozenClock) -> None:
        self.client, self.clock = client, clock

    def command(self, form: dict[str, str], **kw: Any) -> Any:
        body = encode_form(form)
        return self.client.post("/api/v1/inbound/slack/commands", content=body,
                                headers=self._headers(body, "application/x-www-form-urlencoded",
                                                      **kw))

    def interaction(self, payload: dict[str, Any], **kw: Any) -> Any:
        body = interaction_body(payload)
        return self.client.post("/api/v1/inbound/slack/interactions", content=body,
                                headers=self._headers(body, "application/x-www-form-urlencoded",
                                                      **kw))

    def event(self, payload: dict[str, Any], **kw: Any) -> Any:
        import json
        body = json.dumps(payload).encode()
        return self.client.post("/api/v1/inbound/slack/events", content=body,
                                headers=self._headers(body, "application/json", **kw))

    def _headers(self, body: bytes, kind: str, *, age: float = 0, secret: str = SIGNING_SECRET,
                 retry: int | None = None) -> dict[str, str]:
        headers = signed(body, now=self.clock.now().timestamp() - age, secret=secret,
                         retry=retry)
        return {**headers, "Content-Type": kind}


@pytest.fixture
def post(client: TestClient, clock: FrozenClock) -> SlackPoster:
    return SlackPoster(client, clock)


@pytest.fixture
def linked(client: TestClient, admin: Account, slack: Slack, runtime: Runtime,
           clock: FrozenClock) -> Callable[[Account], str]:
    """Give an account a Slack user with the same confirmed email, linked by email lookup
    (users.lookupByEmail through the outbox); returns the Slack user id."""

    def link(account: Account) -> str:
        uid = slack.add_user(account.user.email, name=account.user.name.split()[0].lower())
        r = client.post("/api/v1/chatops/user-links/lookups", headers=admin.headers)
        assert r.status_code == 202, r.text
        drain(runtime, clock)
        links = client.get("/api/v1/chatops/user-links", headers=admin.headers).json()["items"]
        assert any(x["external_id"] == uid and x["user_id"] == account.id for x in links)
        return uid

    return link
