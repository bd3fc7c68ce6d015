"""The first chat messages about an incident (the Slack alert message and the incident
channel's pinned summary) list what it looks like — the known error with the first line of
its workaround, then a similar past incident as a link — although they go before the engine
has recorded the suggestions; an incident like nothing known lists nothing; a past incident
restricted since is no longer shown; a restricted incident's private channel may list them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.chatops.conftest import drain
from tests.chatops.slack_standin import Slack
from tests.conftest import Account
from tocsin.chatops import blocks
from tocsin.clock import FrozenClock
from tocsin.engine.worker import Job, Worker
from tocsin.jobs import TIMER_HANDLERS, run_timers
from tocsin.knownerrors.jobs import suggest_due
from tocsin.runtime import Runtime


@pytest.fixture(autouse=True)
def lane_time_to_spare(runtime: Runtime) -> None:
    """Time enough to work suggestions out on a loaded machine (the default 50 ms a second
    ran out in a CI run, and the message went without them); the budget's own rule is the
    last test's (no time: only recorded ones)."""
    runtime.settings.learning_page_suggestions_ms = 10_000


def _timers(runtime: Runtime) -> None:
    Worker(runtime=runtime, jobs=[Job("timers", run_timers),
                                  Job("knownerrors.suggest", suggest_due)],
           handlers=TIMER_HANDLERS, worker_id="t").run_cycle()


def _texts(message: dict[str, Any]) -> str:
    """A message's blocks' text (sections, fields and context), as Slack shows it."""
    out = []
    for b in message.get("blocks") or []:
        out.append(str((b.get("text") or {}).get("text", "")))
        out += [str(f.get("text", "")) for f in b.get("fields") or []]
        out += [str(e.get("text", "")) for e in b.get("elements") or []
                if isinstance(e.get("text"), str)]
    return "\n".join(out)


def _setup(client: TestClient, admin: Account, responder: Account, slack: Slack,
           runtime: Runtime) -> tuple[str, int, int]:
    """An alert channel mapped to the payments service, a known error of that service, and a
    similar past incident (indexed); returns (alert channel, service id, past incident id)."""
    alerts = slack.add_channel("payments-alerts")
    pay = client.post("/api/v1/services", json={"name": "payments"},
                      headers=admin.headers).json()["id"]
    r = client.post("/api/v1/chatops/channel-maps", headers=admin.headers,
                    json={"channel_id": alerts, "service_id": pay})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/problems", headers=responder.headers, json={
        "title": "Card gateway connection pool exhausted",
        "symptoms": "payment gateway timeouts, pool exhausted in logs",
        "workaround": "\nRestart the gateway proxy.\nThen raise the pool to 200.",
        "fix_status": "in_progress", "service_id": pay})
    assert r.status_code == 201, r.text
    client.post("/api/v1/problems", headers=responder.headers,
                json={"title": "Search index lag", "symptoms": "stale search results"})
    past = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Payment gateway timeouts on charge", "severity": "SEV4"}).json()["id"]
    client.post("/api/v1/incidents", headers=responder.headers,
                json={"title": "Login page slow", "severity": "SEV4"})
    _timers(runtime)  # the past ones are indexed
    return alerts, pay, past


def test_alert_message_and_summary_list_the_known_error_and_similar_incident(
        client: TestClient, slack: Slack, runtime: Runtime, clock: FrozenClock,
        admin: Account, responder: Account) -> None:
    alerts, pay, past = _setup(client, admin, responder, slack, runtime)
    new = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Payment gateway timeouts, pool exhausted", "severity": "SEV2",
        "service_ids": [pay]}).json()["id"]
    # The chat lane sends before the engine's timers run: nothing is recorded yet.
    drain(runtime, clock)
    assert client.get(f"/api/v1/incidents/{new}/suggestions",
                      headers=responder.headers).json()["items"] == []

    (alert,) = [m for m in slack.channels[alerts].messages
                if m["text"].startswith(f"INC-{new} ")]
    text = _texts(alert)
    assert "*Looks like:*" in text
    assert "Known error: <http://tocsin.test/incidents/" \
        f"{new}#learning|Card gateway connection pool exhausted>" in text
    assert "Workaround: Restart the gateway proxy." in text
    assert "raise the pool to 200" not in text  # the first line only
    assert f"Similar incident: <http://tocsin.test/incidents/{past}|INC-{past}: " \
        "Payment gateway timeouts on charge>" in text
    assert "Search index lag" not in text and "Login page slow" not in text
    # Known error first, the section between the incident and its buttons.
    assert text.index("Known error") < text.index("Similar incident")
    kinds = [b["type"] for b in alert["blocks"]]
    assert kinds == ["section", "section", "actions"]

    summary = slack.channel_named(f"inc-{clock.now():%Y%m%d}-payment-gateway").messages[0]
    summary_text = _texts(summary)
    assert "Workaround: Restart the gateway proxy." in summary_text
    assert f"INC-{past}: Payment gateway timeouts on charge" in summary_text

    # Recorded now; the past incident is then restricted: the updated alert message (after
    # the acknowledgement) keeps the known error but no longer shows the past incident.
    _timers(runtime)
    assert len(client.get(f"/api/v1/incidents/{new}/suggestions",
                          headers=responder.headers).json()["items"]) >= 2
    r = client.patch(f"/api/v1/incidents/{past}", headers=admin.headers,
                     json={"restricted": True})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/v1/incidents/{new}/acknowledge", headers=admin.headers)
    assert r.status_code == 200, r.text
    drain(runtime, clock)
    assert slack.ok_calls("chat.update")
    (alert,) = [m for m in slack.channels[alerts].messages
                if m["text"].startswith(f"INC-{new} ")]
    text = _texts(alert)
    assert "acknowledged" in text and "Workaround: Restart the gateway proxy." in text
    assert "Payment gateway timeouts on charge" not in text


def test_incident_like_nothing_known_lists_no_suggestions(
        client: TestClient, slack: Slack, runtime: Runtime, clock: FrozenClock,
        admin: Account, responder: Account) -> None:
    alerts, _pay, _past = _setup(client, admin, responder, slack, runtime)
    other = client.post("/api/v1/services", json={"name": "warehouse"},
                        headers=admin.headers).json()["id"]
    client.post("/api/v1/chatops/channel-maps", headers=admin.headers,
                json={"channel_id": alerts, "service_id": other})
    new = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Forklift telemetry quiet", "severity": "SEV2",
        "service_ids": [other]}).json()["id"]
    drain(runtime, clock)
    (alert,) = [m for m in slack.channels[alerts].messages
                if m["text"].startswith(f"INC-{new} ")]
    assert "Looks like" not in _texts(alert)
    assert [b["type"] for b in alert["blocks"]] == ["section", "actions"]
    summary = slack.channel_named(f"inc-{clock.now():%Y%m%d}-forklift").messages[0]
    assert "Looks like" not in _texts(summary)


def test_restricted_incident_lists_them_only_in_its_private_channel(
        client: TestClient, slack: Slack, runtime: Runtime, clock: FrozenClock,
        admin: Account, responder: Account) -> None:
    alerts, pay, past = _setup(client, admin, responder, slack, runtime)
    new = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Payment gateway timeouts, pool exhausted", "severity": "SEV2",
        "service_ids": [pay], "restricted": True}).json()["id"]
    drain(runtime, clock)
    assert not [m for m in slack.channels[alerts].messages if f"INC-{new}" in m["text"]]
    channel = slack.channel_named(f"inc-{clock.now():%Y%m%d}-payment-gateway")
    assert channel.is_private
    text = _texts(channel.messages[0])
    assert "Workaround: Restart the gateway proxy." in text
    assert f"INC-{past}: Payment gateway timeouts on charge" in text


def test_looks_like_keeps_to_slacks_section_limit() -> None:
    many = [blocks.Hint(kind="known error", title="t" * 500, detail="d" * 500,
                        url=f"http://tocsin.test/incidents/{n}#learning") for n in range(40)]
    (section,) = blocks.looks_like(many)
    text = section["text"]["text"]
    assert len(text) <= 3000 and text.count("•") < 40
    assert text.rstrip().endswith("d" * 300)  # whole lines only
    assert blocks.looks_like([]) == []
    _text, body = blocks.alert(blocks.IncidentView(
        id=1, title="x", status="triggered", severity="SEV1", url="http://tocsin.test/i/1"),
        many)
    assert len(body) <= 50


def test_with_no_time_to_work_them_out_only_recorded_ones_are_listed(
        client: TestClient, slack: Slack, runtime: Runtime, clock: FrozenClock,
        admin: Account, responder: Account) -> None:
    runtime.settings.learning_page_suggestions_ms = 0  # a storm has used up the lane's time
    alerts, pay, past = _setup(client, admin, responder, slack, runtime)
    new = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Payment gateway timeouts, pool exhausted", "severity": "SEV3",
        "service_ids": [pay]}).json()["id"]
    drain(runtime, clock)

    def alert_text() -> str:
        (alert,) = [m for m in slack.channels[alerts].messages
                    if m["text"].startswith(f"INC-{new} ")]
        return _texts(alert)

    assert "Looks like" not in alert_text()  # sent at once, without them
    _timers(runtime)  # recorded: the next edit lists them, whatever the budget
    client.post(f"/api/v1/incidents/{new}/acknowledge", headers=admin.headers)
    drain(runtime, clock)
    assert "Workaround: Restart the gateway proxy." in alert_text()
    assert f"INC-{past}: Payment gateway timeouts on charge" in alert_text()
