"""The stand-in keeps Slack's rule that a trigger_id works within 3 s of its action: a form
opened with an expired one is refused there as Slack would, and Tocsin opens no form."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.chatops.conftest import SlackPoster
from tests.chatops.slack_standin import Slack, command_form
from tests.conftest import Account
from tocsin.clock import FrozenClock


def test_an_expired_trigger_id_is_refused_and_no_form_opens(
        client: TestClient, slack: Slack, clock: FrozenClock, responder: Account,
        linked: Callable[[Account], str]) -> None:
    slack.trigger_seconds = 3.0  # Slack's own limit (the fixture is generous)
    rui = linked(responder)
    general = slack.add_channel("general")
    form = command_form(slack, text="declare Login slow", user=rui, channel=general)
    slack.triggers[form["trigger_id"]] -= 5  # made 5 s ago: past Slack's 3 s

    answer = SlackPoster(client, clock).command(form)

    assert answer.status_code == 200
    assert not slack.views
    assert [(c.ok, c.error) for c in slack.calls if c.method == "views.open"] == [
        (False, "expired_trigger_id")]
