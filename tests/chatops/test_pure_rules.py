"""The pure parts: command parsing, channel names, Slack's tier limits, the declare form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tocsin.chatops import blocks, commands, tiers
from tocsin.incidents.lifecycle import Severity

DAY = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


def test_commands_are_parsed() -> None:
    assert commands.parse("") == commands.Command("help")
    assert commands.parse("declare Checkout errors").text == "Checkout errors"
    assert commands.parse("acknowledge").verb == "ack"
    assert commands.parse("severity p1 all down") == commands.Command(
        "severity", text="all down", severity=Severity.SEV1)
    assert commands.parse("role ic me") == commands.Command("role", role="commander", who="me")
    assert commands.parse("role comms <@U123ABC|cara>").who == "U123ABC"


def test_bad_commands_answer_with_help_naming_the_problem() -> None:
    assert commands.parse("reboot everything").problem == "unknown command `reboot`"
    assert "severity" in commands.parse("severity SEV9").problem
    assert commands.parse("note").verb == "help"
    assert commands.parse("role janitor me").verb == "help"
    assert commands.parse("role ic bob").problem.startswith("name the person")


def test_channel_name_looks_like_the_guide_says() -> None:
    assert blocks.channel_name(title="Checkout errors", declared_at=DAY) == \
        "inc-20261206-checkout-errors"
    assert blocks.channel_name(title="!!!", declared_at=DAY) == "inc-20261206-incident"
    assert blocks.channel_name(title="API down", declared_at=DAY, suffix="42") == \
        "inc-20261206-api-down-42"


@given(st.text(max_size=400), st.text(alphabet="0123456789", max_size=8))
def test_channel_names_are_always_valid_slack_names(title: str, suffix: str) -> None:
    name = blocks.channel_name(title=title, declared_at=DAY, suffix=suffix)
    assert re.fullmatch(r"[a-z0-9_-]{1,80}", name)
    assert name.startswith("inc-20261206-")


@given(st.sampled_from(sorted(tiers.LIMITS)),
       st.lists(st.integers(min_value=0, max_value=600), max_size=300))
def test_calls_allowed_never_exceed_the_tier_in_any_window(method: str,
                                                            wishes: list[int]) -> None:
    """Whatever times calls are wanted at, sending each at next_allowed keeps every window
    within the method's limit."""
    limit = tiers.limit_of(method)
    start = DAY
    sent: list[datetime] = []
    for offset in sorted(wishes):
        wanted = start + timedelta(seconds=offset)
        at = max(wanted, tiers.next_allowed(method, sent, wanted))
        assert tiers.next_allowed(method, sent, at) == at
        sent.append(at)
    for t in sent:
        assert sum(t <= u < t + limit.window for u in sent) <= limit.calls


def test_storm_span_follows_the_tier() -> None:
    assert tiers.minimum_span("conversations.create", 20) == timedelta(0)
    assert tiers.minimum_span("conversations.create", 21) == timedelta(minutes=1)


def test_declare_form_offers_every_severity_with_guidance() -> None:
    view = blocks.declare_modal(channel_id="C1", title="", services=[(3, "checkout")])
    severity = next(b for b in view["blocks"] if b["block_id"] == "severity")
    options = severity["element"]["options"]
    assert [o["value"] for o in options] == ["SEV1", "SEV2", "SEV3", "SEV4"]
    assert all(0 < len(o["description"]["text"]) <= 75 for o in options)
    assert len(view["title"]["text"]) <= 24
