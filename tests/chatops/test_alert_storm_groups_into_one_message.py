"""An alert storm in Slack: past the threshold, incidents opened by monitoring get no
channel or alert message of their own but one storm message per alert channel, posted once
and edited as the storm grows (edits coalesced in the outbox); people's declarations and
incidents after a quiet minute are shown on their own again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.chatops.conftest import drain
from tests.chatops.slack_standin import BOT_TOKEN, SIGNING_SECRET, Slack, SocketSide
from tests.conftest import Account
from tocsin.chatops.models import ChatCall
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.settings import Settings

THRESHOLD = 3


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             standin: tuple[Slack, SocketSide]) -> Settings:
    return make_settings(database_url=database_url, slack_bot_token=BOT_TOKEN,
                         slack_signing_secret=SIGNING_SECRET, slack_api_url=standin[0].base_url,
                         base_url="http://tocsin.test", chatops_storm_threshold=THRESHOLD)


def _mapped(client: TestClient, admin: Account, slack: Slack, name: str) -> tuple[str, int]:
    channel = slack.add_channel(f"{name}-alerts")
    svc = client.post("/api/v1/services", json={"name": name}, headers=admin.headers)
    assert svc.status_code == 201, svc.text
    r = client.post("/api/v1/chatops/channel-maps", headers=admin.headers,
                    json={"channel_id": channel, "service_id": svc.json()["id"]})
    assert r.status_code == 201, r.text
    return channel, svc.json()["id"]


def _storm_texts(slack: Slack, channel: str) -> list[str]:
    """Each storm message of the channel as one text: its fallback text and its blocks'."""
    return [" ".join([m["text"], *(str(b.get("text", {}).get("text", ""))
                                   for b in m.get("blocks", []))])
            for m in slack.channels[channel].messages if "Alert storm" in m["text"]]


def test_storm_groups_the_excess_into_one_edited_message_per_channel(
        slack: Slack, client: TestClient, runtime: Runtime, clock: FrozenClock,
        admin: Account, make_incident: Callable[..., dict[str, Any]]) -> None:
    web, web_service = _mapped(client, admin, slack, "web")
    db, db_service = _mapped(client, admin, slack, "db")
    made = [make_incident(title=f"Errors {n}", severity="SEV2" if n == 4 else "SEV3",
                          detection_source="monitor",
                          service_ids=[web_service if n % 2 == 0 else db_service])
            for n in range(9)]
    # Nothing was sent yet: each storm message's post is queued once, however many joined.
    with runtime.read_sessions() as session:
        purposes = [c.purpose for c in session.scalars(select(ChatCall))]
    assert purposes.count("alert.post") == THRESHOLD
    assert purposes.count("storm.post") == 2 and "storm.update" not in purposes
    drain(runtime, clock)

    # The first three have their own alert message; the SEV2 joined the storm: no channel.
    own = [m for ch in (web, db) for m in slack.channels[ch].messages
           if "Alert storm" not in m["text"]]
    assert sorted(m["text"].split()[0] for m in own) == [f"INC-{i['id']}" for i in made[:3]]
    assert not slack.ok_calls("conversations.create")
    assert len(_storm_texts(slack, web)) == 1 and len(_storm_texts(slack, db)) == 1
    [web_storm] = _storm_texts(slack, web)
    assert "3 incidents" in web_storm and "3 triggered" in web_storm  # 4, 6, 8
    [db_storm] = _storm_texts(slack, db)
    assert "3 incidents" in db_storm  # 3, 5, 7

    # A grouped incident acknowledged: its storm message is edited, once per change batch.
    grouped = made[4]
    for _ in range(2):
        r = client.post(f"/api/v1/incidents/{grouped['id']}/acknowledge",
                        headers=admin.headers)
        assert r.status_code in (200, 409), r.text
    before = len(slack.ok_calls("chat.update"))
    drain(runtime, clock)
    assert len(slack.ok_calls("chat.update")) == before + 1
    [web_storm] = _storm_texts(slack, web)
    assert "1 acknowledged" in web_storm and "2 triggered" in web_storm

    # Still storming, the incidents keep joining the same message (edited, not reposted).
    clock.advance(timedelta(seconds=20))
    make_incident(title="Errors 9", severity="SEV3", detection_source="monitor",
                  service_ids=[web_service])
    drain(runtime, clock)
    [web_storm] = _storm_texts(slack, web)
    assert "4 incidents" in web_storm and "Errors 9" in web_storm

    # A person's declaration in the storm is shown on its own, with its channel.
    make_incident(title="Payments down", severity="SEV1", service_ids=[web_service])
    drain(runtime, clock)
    assert slack.channel_named("inc-").name.endswith("payments-down")

    # After a quiet minute: shown on its own again.
    clock.advance(timedelta(minutes=2))
    late = make_incident(title="Disk full", severity="SEV3", detection_source="monitor",
                         service_ids=[db_service])
    drain(runtime, clock)
    assert any(m["text"].startswith(f"INC-{late['id']}") for m in slack.channels[db].messages)
    assert len(_storm_texts(slack, db)) == 1


def test_storm_message_edits_keep_half_of_chat_update_for_people(
        slack: Slack, client: TestClient, runtime: Runtime, clock: FrozenClock,
        admin: Account, make_incident: Callable[..., dict[str, Any]]) -> None:
    """Many storm edits due at once: at most 25 go a minute (half of Tier 3's 50)."""
    services = [_mapped(client, admin, slack, f"svc{n}")[1] for n in range(30)]
    for n in range(THRESHOLD):
        make_incident(title=f"Own {n}", severity="SEV3", detection_source="monitor",
                      service_ids=[services[0]])
    for service_id in services:  # each joins (posts) a storm message in its channel
        make_incident(title="Joins", severity="SEV3", detection_source="monitor",
                      service_ids=[service_id])
    drain(runtime, clock)
    for service_id in services:  # and an edit of each
        make_incident(title="Joins too", severity="SEV3", detection_source="monitor",
                      service_ids=[service_id])
    start = clock.now()
    drain(runtime, clock)
    with runtime.read_sessions() as session:
        edits = sorted(t for t in session.scalars(select(ChatCall.sent_at).where(
            ChatCall.purpose == "storm.update")) if t is not None)
    assert len(edits) == 30
    assert sum(t < start + timedelta(minutes=1) for t in edits) == 25
