"""The first page about an incident (a real email through aiosmtpd) lists the known error
with its workaround and the similar past incident, although it leaves before the engine has
recorded the suggestions; later pages only link to them; SMS stays short."""

from __future__ import annotations

import time
from dataclasses import replace
from email.message import Message
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, paging_setup, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.engine.worker import Job, Worker
from tocsin.jobs import DELIVER, TIMER_HANDLERS, run_timers
from tocsin.knownerrors import service as knownerrors
from tocsin.knownerrors.jobs import suggest_due
from tocsin.notify.contract import ChannelKind
from tocsin.notify.delivery import Delivery
from tocsin.notify.pipeline import Claimed
from tocsin.notify.render import render
from tocsin.runtime import Runtime
from tocsin.settings import Settings


@pytest.fixture
def settings(smtp_settings: Settings) -> Settings:
    return smtp_settings


def html_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no html part")


def _only(runtime: Runtime, *jobs: Job) -> Worker:
    return Worker(runtime=runtime, jobs=list(jobs), handlers=TIMER_HANDLERS, worker_id="t")


SUGGEST = Job("knownerrors.suggest", suggest_due)


def test_first_email_page_lists_the_known_error_workaround_and_similar_incident(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, responder: Account, make_account: Any) -> None:
    inbox, _ = smtp
    alice, bob = make_account(name="Alice"), make_account(name="Bob")
    w = worker(runtime)
    verified_email(client, w, inbox, alice, "alice@example.com")
    verified_email(client, w, inbox, bob, "bob@example.com")
    setup = paging_setup(client, admin, alice, bob)
    pay = setup["service"]["id"]
    problem = client.post("/api/v1/problems", headers=responder.headers, json={
        "title": "Card gateway connection pool exhausted",
        "symptoms": "payment gateway timeouts, pool exhausted in logs",
        "workaround": "Restart the gateway proxy.\nThen raise the pool to 200.",
        "fix_status": "in_progress", "service_id": pay}).json()
    client.post("/api/v1/problems", headers=responder.headers,
                json={"title": "Search index lag", "symptoms": "stale search results"})
    past = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Payment gateway timeouts on charge", "severity": "SEV3"}).json()["id"]
    client.post("/api/v1/incidents", headers=responder.headers,
                json={"title": "Login page slow", "severity": "SEV3"})
    _only(runtime, Job("timers", run_timers), SUGGEST).run_cycle()  # past ones indexed

    new = client.post("/api/v1/incidents", headers=admin.headers, json={
        "title": "Payment gateway timeouts, pool exhausted", "severity": "SEV1",
        "service_ids": [pay]}).json()["id"]
    # The delivery lane runs before the engine's timers (separate processes): the page
    # leaves before `knownerrors.suggest` has recorded anything.
    _only(runtime, Job("deliver", DELIVER)).run_cycle()
    assert client.get(f"/api/v1/incidents/{new}/suggestions",
                      headers=responder.headers).json()["items"] == []
    (page,) = [m for m in inbox.to("alice@example.com") if f"INC-{new}:" in m["Subject"]]
    text = body_of(page)
    assert "Looks like:" in text
    assert ("- Known error: Card gateway connection pool exhausted. Workaround: Restart the "
            f"gateway proxy. http://tocsin.test/incidents/{new}#learning") in text
    assert "raise the pool" not in text  # the workaround's first line only
    assert (f"- Similar incident: INC-{past}: Payment gateway timeouts on charge "
            f"http://tocsin.test/incidents/{past}") in text
    assert "Search index lag" not in text and "Login page slow" not in text
    page_html = html_of(page)
    assert "Workaround: Restart the gateway proxy." in page_html
    assert f'href="http://tocsin.test/incidents/{past}"' in page_html

    # The engine records the same suggestions a moment later (its suggestions job).
    _only(runtime, SUGGEST).run_cycle()
    found = client.get(f"/api/v1/incidents/{new}/suggestions",
                       headers=responder.headers).json()["items"]
    assert [(s["kind"], s["target_id"]) for s in found][:2] == [
        ("problem", problem["id"]), ("incident", past)]

    # The next level's page (Bob, five minutes on) links to them without listing them.
    clock.advance(minutes=6)
    drain(w)
    (later,) = [m for m in inbox.to("bob@example.com") if f"INC-{new}:" in m["Subject"]]
    assert "Looks like:" not in body_of(later)
    assert f"http://tocsin.test/incidents/{new}#learning" in body_of(later)


def test_a_text_message_only_links_to_the_suggestions(settings: Settings,
                                                      clock: FrozenClock) -> None:
    payload = {"title": "Gateway timeouts", "severity": "SEV1", "level": 1, "suggestions": [
        {"kind": "known error", "title": "Pool exhausted", "detail": "Restart", "path": ""}]}
    sms, mail, hook = (render(kind="page", channel=channel, address="x", payload=payload,
                              user_id=1, incident_id=7, idempotency_key="k",
                              settings=settings, now=clock.now())
                       for channel in (ChannelKind.SMS, ChannelKind.EMAIL, ChannelKind.WEBHOOK))
    assert "Pool exhausted" not in sms.text and "/incidents/7#learning" in sms.text
    assert "Known error: Pool exhausted. Workaround: Restart" in mail.text
    assert hook.data["suggestions"] == [{"kind": "known error", "title": "Pool exhausted",
                                         "workaround": "Restart",
                                         "url": "http://tocsin.test/incidents/7#learning"}]


def test_out_of_time_a_first_page_only_links_but_recorded_ones_are_always_listed(
        client: TestClient, runtime: Runtime, responder: Account) -> None:
    client.post("/api/v1/problems", headers=responder.headers, json={
        "title": "Disk full on ingest nodes", "workaround": "Delete old segments"})
    iid = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Ingest disk full", "severity": "SEV3"}).json()["id"]
    with runtime.read_sessions() as s:
        assert knownerrors.page_suggestions(s, [iid], budget=0) == {}  # no time: link only
        (line,) = knownerrors.page_suggestions(s, [iid], budget=5)[iid]
    assert line == {"kind": "known error", "title": "Disk full on ingest nodes",
                    "detail": "Delete old segments", "path": ""}
    _only(runtime, SUGGEST).run_cycle()  # recorded: no computing needed
    with runtime.read_sessions() as s:
        assert knownerrors.page_suggestions(s, [iid], budget=0) == {iid: [line]}


def test_in_a_storm_first_pages_stop_waiting_for_suggestions(runtime: Runtime) -> None:
    asked: list[list[int]] = []

    def slow(session: Any, incident_ids: Any, *, budget: float) -> dict[int, list[Any]]:
        asked.append(list(incident_ids))
        time.sleep(runtime.settings.learning_page_suggestions_ms / 1000 * 1.5)
        return {}

    lane = Delivery(runtime, worker_id="t", suggestions=slow)
    page = Claimed(1, "k", "page", 1, 1, 7, {"level": 1}, 1, ChannelKind.EMAIL, "a@x.io")
    lane._with_suggestions([page])  # the bucket is full: asked
    lane._with_suggestions([replace(page, id=2, incident_id=8)])  # spent: link only
    assert asked == [[7]]
    time.sleep(1.0)  # refills at learning_page_suggestions_ms per second
    lane._with_suggestions([replace(page, id=3, incident_id=9)])
    assert asked == [[7], [9]]
