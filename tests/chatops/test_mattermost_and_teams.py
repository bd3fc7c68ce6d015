"""Mattermost: the same slash command and buttons (its Slack-compatible formats) and
incoming-webhook posts. Teams: Adaptive Cards through a Workflows webhook, whose actions are
Tocsin's signed links."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.chatops.conftest import drain
from tests.conftest import Account
from tests.notify.servers import Received, http_receiver
from tocsin.chatops import service as chat
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.settings import Settings

MM_TOKEN = "mm-slash-token-0123456789"


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url, mattermost_token=MM_TOKEN,
                         base_url="http://tocsin.test")  # no Slack at all


@pytest.fixture
def hooks() -> Iterator[tuple[list[Received], str]]:
    with http_receiver() as receiver:
        yield receiver


def _mapped_service(client: TestClient, admin: Account, url: str, platform: str) -> int:
    svc = client.post("/api/v1/services", json={"name": f"svc-{platform}"},
                      headers=admin.headers).json()["id"]
    r = client.post("/api/v1/chatops/channel-maps", headers=admin.headers,
                    json={"platform": platform, "channel_id": url, "service_id": svc})
    assert r.status_code == 201, r.text
    return int(svc)


def _mm_command(client: TestClient, text: str, user: str, token: str = MM_TOKEN) -> Any:
    return client.post("/api/v1/inbound/mattermost/command", data={
        "token": token, "team_id": "t1", "channel_id": "ch1", "user_id": user,
        "user_name": "rui", "command": "/incident", "text": text,
        "response_url": "http://mm.test/hooks/x", "trigger_id": "tr1"})


def test_mattermost_slash_command_declares_and_buttons_act_as_linked_user(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        responder: Account, hooks: tuple[list[Received], str]) -> None:
    got, base = hooks
    svc = _mapped_service(client, admin, f"{base}/hooks/mm-incoming", "mattermost")
    assert _mm_command(client, "help", "mmrui", token="wrong").status_code == 401
    r = _mm_command(client, "declare SEV1 Login broken", "mmrui")
    assert "don't know who you are" in r.json()["text"]
    client.post("/api/v1/chatops/user-links", headers=admin.headers, json={
        "platform": "mattermost", "external_id": "mmrui", "user_id": responder.id})
    r = _mm_command(client, "declare SEV1 Login broken", "mmrui")
    assert r.json()["response_type"] == "in_channel" and "declared (SEV1)" in r.json()["text"]

    r = client.post("/api/v1/incidents", headers=responder.headers,
                    json={"title": "Payments failing", "severity": "SEV2", "service_ids": [svc]})
    incident_id = r.json()["id"]
    drain(runtime, clock)
    post = json.loads(got[-1].body)
    assert got[-1].path == "/hooks/mm-incoming"
    attachment = post["attachments"][0]
    assert attachment["title"].endswith("Payments failing")
    ack = next(a for a in attachment["actions"] if a["id"] == "ack")
    assert ack["integration"]["url"] == "http://tocsin.test/api/v1/inbound/mattermost/actions"

    forged = {**ack["integration"]["context"], "incident_id": incident_id + 1}
    r = client.post("/api/v1/inbound/mattermost/actions",
                    json={"user_id": "mmrui", "context": forged})
    assert r.status_code == 401
    r = client.post("/api/v1/inbound/mattermost/actions",
                    json={"user_id": "mmrui", "channel_id": "ch1", "post_id": "p1",
                          "context": ack["integration"]["context"]})
    assert r.status_code == 200 and r.json()["ephemeral_text"].endswith("acknowledged.")
    shown = client.get(f"/api/v1/incidents/{incident_id}", headers=admin.headers).json()
    assert shown["status"] == "acknowledged" and shown["acknowledged_by_id"] == responder.id
    drain(runtime, clock)
    update = json.loads(got[-1].body)["attachments"][0]
    assert "acknowledged" in update["text"]
    assert [a["id"] for a in update["actions"]] == ["resolve", "escalate"]
    r = _mm_command(client, f"note INC-{incident_id} failover done", "mmrui")
    assert r.json()["text"].startswith("Added to the timeline")
    assert "no incident INC-99999" in _mm_command(client, "ack INC-99999", "mmrui").json()["text"]
    assert "no incident in this channel" in _mm_command(client, "ack", "mmrui").json()["text"]
    r = _mm_command(client, f"resolve INC-{incident_id}", "mmrui")
    assert r.json()["text"].endswith("resolved.")


def test_teams_card_acknowledge_link_acts_as_the_paged_person(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        responder: Account, hooks: tuple[list[Received], str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    got, base = hooks
    svc = _mapped_service(client, admin, f"{base}/workflows/teams", "teams")
    # Who was paged is escalation's business (its own tests); here: the responder was.
    monkeypatch.setattr(chat, "paged_users", lambda session, incident_id: [responder.id])
    r = client.post("/api/v1/incidents", headers=admin.headers,
                    json={"title": "Search down", "severity": "SEV2", "service_ids": [svc]})
    incident_id = r.json()["id"]
    drain(runtime, clock)
    message = json.loads(got[-1].body)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    titles = [a["title"] for a in card["actions"]]
    assert titles == ["Acknowledge as Rui Responder", "Open in Tocsin"]
    link = card["actions"][0]["url"]
    assert link.startswith("http://tocsin.test/ack/")
    path = link[len("http://tocsin.test"):]
    assert client.get(path).status_code == 200  # a form; GET changes nothing
    assert client.post(path).status_code == 200
    shown = client.get(f"/api/v1/incidents/{incident_id}", headers=admin.headers).json()
    assert shown["acknowledged_by_id"] == responder.id
