"""Chat-ops and status pages, connected as the server connects them: an incident channel's
`/incident status` names the public post, and `/incident resolve` shows on the public page
at once, before the refresh job's next turn."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.chatops.conftest import SlackPoster, drain
from tests.chatops.slack_standin import Slack, command_form, submission
from tests.conftest import Account
from tests.statuspages.helpers import component, component_status, page, run_refresh, service
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.statuspages.service import FOR_CHAT


@pytest.fixture
def served(runtime: Runtime) -> Iterator[TestClient]:
    """The app as the server builds it: status pages behind chat-ops' port."""
    app = create_app(runtime)
    assert app.state.chatops_status_pages is FOR_CHAT
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_resolve_typed_in_chat_shows_on_the_status_page_at_once(
        served: TestClient, slack: Slack, runtime: Runtime, clock: FrozenClock,
        admin: Account, responder: Account, linked: Callable[[Account], str]) -> None:
    client = served
    post = SlackPoster(client, clock)
    api = service(client, admin, "checkout")
    p = page(client, admin)
    cid = component(client, admin, p["id"], "Checkout", [api])
    rui = linked(responder)

    general = slack.add_channel("general")
    post.command(command_form(slack, text="declare Checkout errors", user=rui, channel=general))
    view_id = list(slack.views)[-1]
    post.interaction(submission(slack, view_id=view_id, user=rui, values={
        "title": "Checkout errors", "severity": "SEV2", "service": str(api)}))
    drain(runtime, clock, FOR_CHAT)
    incident = client.get("/api/v1/incidents", headers=admin.headers).json()["items"][0]
    channel = next(c for c in slack.channels.values() if c.name.startswith("inc-"))
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers, json={
        "title": "Checkout is failing for some customers", "incident_id": incident["id"],
        "component_ids": [cid], "stage": "investigating", "body": "We are looking into it."})
    assert r.status_code == 201, r.text
    run_refresh(runtime)
    assert component_status(client, "acme", "Checkout") == "partial_outage"

    answer = post.command(command_form(slack, text="status", user=rui, channel=channel.id))
    assert f"Status page: http://tocsin.test/status/acme/#post-{r.json()['id']}" \
        in answer.json()["text"]

    answer = post.command(command_form(slack, text="resolve fixed", user=rui,
                                       channel=channel.id))
    assert answer.json()["text"].endswith("resolved.")
    # No refresh job has run since: the resolve itself re-rendered the page.
    assert component_status(client, "acme", "Checkout") == "operational"
    drain(runtime, clock, FOR_CHAT)
    assert channel.topic.startswith("SEV2 · resolved") and "/status/acme/#post-" in channel.topic


def test_status_in_chat_names_the_incidents_bridge(
        served: TestClient, slack: Slack, runtime: Runtime, clock: FrozenClock,
        admin: Account, responder: Account, linked: Callable[[Account], str]) -> None:
    post = SlackPoster(served, clock)
    rui = linked(responder)
    general = slack.add_channel("general")
    post.command(command_form(slack, text="declare Login slow", user=rui, channel=general))
    post.interaction(submission(slack, view_id=list(slack.views)[-1], user=rui, values={
        "title": "Login slow", "severity": "SEV1"}))
    drain(runtime, clock, FOR_CHAT)
    incident = served.get("/api/v1/incidents", headers=admin.headers).json()["items"][0]
    r = served.put(f"/api/v1/incidents/{incident['id']}/bridge", headers=responder.headers,
                   json={"url": "https://meet.example.com/inc-1"})
    assert r.status_code in (200, 204), r.text
    channel = next(c for c in slack.channels.values() if c.name.startswith("inc-"))
    answer = post.command(command_form(slack, text="status", user=rui, channel=channel.id))
    assert "Bridge: https://meet.example.com/inc-1" in answer.json()["text"]
