"""Must show, the rest of the game day: a drill from a scenario on a service with a real
on-call and a real alert channel gets a drill channel in Slack (marked, only the
participants invited, its alert message there and not in the team's channel), rehearses
its public update on the status page's drill preview (never the public page, its feeds,
JSON or subscribers), and its report times the first update from that post."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.chatops.conftest import drain as drain_chat
from tests.chatops.slack_standin import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER,
    SIGNING_SECRET,
    Slack,
    SocketSide,
    slack_standin,
)
from tests.conftest import Account
from tests.notify.paging import drain, pages_to, paging_setup, reachable_people, worker
from tests.notify.servers import Inbox, body_of
from tests.statuspages.helpers import PUBLIC_FILES, component, page, run_refresh
from tests.web.conftest import web_login
from tocsin.clock import FrozenClock
from tocsin.notify.models import Message
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.statuspages.service import FOR_CHAT


@pytest.fixture
def standin() -> Iterator[tuple[Slack, SocketSide]]:
    with slack_standin() as pair:
        yield pair


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             smtp: tuple[Inbox, int], standin: tuple[Slack, SocketSide]) -> Settings:
    return make_settings(database_url=database_url, smtp_port=smtp[1],
                         base_url="http://tocsin.test", slack_bot_token=BOT_TOKEN,
                         slack_signing_secret=SIGNING_SECRET, slack_app_token=APP_TOKEN,
                         slack_api_url=standin[0].base_url)


def _slack_user(client: TestClient, admin: Account, slack: Slack, runtime: Runtime,
                clock: FrozenClock, who: Account) -> str:
    uid = slack.add_user(who.user.email, name=who.user.name.lower())
    assert client.post("/api/v1/chatops/user-links/lookups",
                       headers=admin.headers).status_code == 202
    drain_chat(runtime, clock, FOR_CHAT)
    return uid


def test_drill_gets_a_drill_channel_and_a_preview_post_and_reports_its_first_update(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        standin: tuple[Slack, SocketSide], admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    slack = standin[0]
    w = worker(runtime)
    alice, bob, carol, dave = reachable_people(client, w, inbox, make_account,
                                               "Alice", "Bob", "Carol", "Dave")
    ids = {who.id: _slack_user(client, admin, slack, runtime, clock, who)
           for who in (alice, bob, carol, dave)}
    setup = paging_setup(client, admin, alice, bob)  # Alice on call, then Bob
    service_id = setup["service"]["id"]
    team_alerts = slack.add_channel("payments-alerts")  # the team's real alert channel
    r = client.post("/api/v1/chatops/channel-maps", headers=admin.headers,
                    json={"channel_id": team_alerts, "service_id": service_id})
    assert r.status_code == 201, r.text
    p = page(client, admin, slug="acme")
    api = component(client, admin, p["id"], "Payments API", [service_id])
    confirmed = client.post("/status/acme/subscribe", json={"address": "reader@example.com"})
    assert confirmed.status_code == 202
    drain(w)
    token = re.search(r"Confirm: \S+/confirm/(\S+)",
                      body_of(inbox.to("reader@example.com")[-1]))
    assert token is not None
    assert client.get(f"/status/acme/confirm/{token.group(1)}").status_code == 200
    with runtime.sessions() as s:
        [confirmation_kind] = s.scalars(select(Message.kind).where(
            Message.address == "reader@example.com")).all()

    scenario = client.post("/api/v1/drills/scenarios", headers=admin.headers, json={
        "name": "db failover", "alert_title": "Primary database unreachable",
        "alert_text": "pg-primary down", "service_id": service_id,
        "severity": "SEV1"}).json()
    # Bob (on the real policy, and in Slack) runs the game day for Carol and Dave.
    drill = client.post("/api/v1/drills", headers=bob.headers, json={
        "scenario_id": scenario["id"], "participant_ids": [carol.id, dave.id]})
    assert drill.status_code == 201, drill.text
    iid = drill.json()["incident_id"]
    drain(w)
    drain_chat(runtime, clock, FOR_CHAT)
    detected = client.get(f"/api/v1/incidents/{iid}", headers=admin.headers).json()
    started_at = datetime.fromisoformat(detected["detected_at"])

    # Paging: the participants only (the real policy's Alice is never paged).
    assert pages_to(inbox, "carol@x.io", iid) == 1 and pages_to(inbox, "alice@x.io", iid) == 0
    assert pages_to(inbox, "bob@x.io", iid) == 0

    # Chat: a drill channel, marked, with only the participants; the alert message there.
    channel = slack.channel_named(f"drill-{started_at:%Y%m%d}-primary-database-unreachable")
    assert channel.topic.startswith("[DRILL] SEV1")
    assert channel.members == {BOT_USER, ids[carol.id], ids[dave.id]}
    assert any("Primary database unreachable" in m["text"] for m in channel.messages)
    assert slack.channels[team_alerts].messages == []
    assert not [c for c in slack.channels.values() if c.name.startswith("inc-")]

    # The status page: Dave (comms) rehearses the public update.
    client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=dave.headers)
    r = client.post(f"/api/v1/incidents/{iid}/roles", headers=carol.headers,
                    json={"role": "comms_lead", "user_id": dave.id})
    assert r.status_code == 200, r.text
    clock.advance(minutes=4)
    posted_at = clock.now()
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=dave.headers, json={
        "title": "Payments delayed", "stage": "investigating", "incident_id": iid,
        "body": "We are looking into delayed payments.", "component_ids": [api]})
    assert r.status_code == 201, r.text
    run_refresh(runtime)
    drain(w)
    drain_chat(runtime, clock, FOR_CHAT)  # the drill channel's topic links the preview, not the page
    assert f"/statuspages/{p['id']}/drill-preview#post-{r.json()['id']}" in channel.topic
    assert "/status/acme" not in channel.topic
    preview = client.get(f"/api/v1/statuspages/{p['id']}/drill-preview",
                         headers=admin.headers)
    assert preview.status_code == 200 and "DRILL PREVIEW" in preview.text
    assert "[DRILL] Payments delayed" in preview.text
    assert "We are looking into delayed payments." in preview.text
    for name in PUBLIC_FILES:  # the public page, its feeds and JSON: nothing of the drill
        body = client.get(f"/status/acme/{name}").text
        assert "Payments delayed" not in body and "delayed payments" not in body, name
    summary = client.get("/status/acme/api/v2/summary.json").json()
    assert summary["incidents"] == [] and summary["status"]["indicator"] == "none"
    for f in client.get(f"/api/v1/statuspages/{p['id']}/files",
                        headers=admin.headers).json()["files"]:  # what export copies
        assert "Payments delayed" not in client.get(f"/status/acme/{f['name']}").text
    with runtime.sessions() as s:  # subscribers were told nothing
        assert s.scalars(select(Message.kind).where(
            Message.address == "reader@example.com")).all() == [confirmation_kind]
    assert len(inbox.to("reader@example.com")) == 1  # the confirmation only

    # Signed-in people see the preview on the web; a stranger is sent to sign in.
    anonymous = client.get(f"/statuspages/{p['id']}/drill-preview", follow_redirects=False)
    assert anonymous.status_code in (303, 401)
    web_login(client, carol)
    seen = client.get(f"/statuspages/{p['id']}/drill-preview")
    assert seen.status_code == 200 and "[DRILL] Payments delayed" in seen.text
    assert seen.headers["cache-control"] == "no-store"

    clock.advance(minutes=16)
    client.post(f"/api/v1/incidents/{iid}/resolve", headers=dave.headers, json={})
    drain_chat(runtime, clock, FOR_CHAT)
    done = client.post(f"/api/v1/drills/{drill.json()['id']}/finish",
                       headers=carol.headers).json()
    report = {line["measure"]: line for line in done["report"]}
    assert report["first_update"]["took_seconds"] == (posted_at - started_at).total_seconds()
    assert report["first_update"]["took_seconds"] >= 240
    assert report["first_update"]["met"] is True
    timeline = client.get(f"/api/v1/incidents/{iid}/timeline", headers=admin.headers).json()
    assert any("drill preview" in e["body"] for e in timeline if e["kind"] == "note")
