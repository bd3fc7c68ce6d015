"""The first-hour checklist as a pure function of facts: each step's done flag, and the next
command for what is missing."""

from __future__ import annotations

from dataclasses import replace

from tocsin.setup import checklist

NOTHING = checklist.Facts(verified_method=False, test_delivered=False, test_pending=False,
                          service=None, integration=None, pages_someone=False,
                          alert_received=False, page_delivered=False)


def test_a_fresh_install_has_every_step_to_do_starting_with_a_contact_method() -> None:
    steps = checklist.steps(NOTHING)
    assert [s.key for s in steps] == ["contact_method", "test_message", "service", "sender",
                                      "who_is_paged", "test_alert"]
    assert not any(s.done for s in steps)
    assert checklist.next_step(steps) == steps[0]
    assert steps[0].command.startswith("tocsin user contact-method add")


def test_commands_name_what_exists_and_done_steps_say_what_was_done() -> None:
    facts = replace(NOTHING, verified_method=True, test_pending=True, service="shop",
                    integration="prom")
    by_key = {s.key: s for s in checklist.steps(facts)}
    assert by_key["contact_method"].done and not by_key["test_message"].done
    assert by_key["test_message"].detail == "a test message is on its way"
    assert by_key["service"].detail == "service shop"
    assert by_key["who_is_paged"].command.endswith("tocsin service update shop -p primary")
    assert by_key["test_alert"].command == "tocsin integration test prom"


def test_an_alert_without_its_page_is_not_done_yet() -> None:
    steps = checklist.steps(replace(NOTHING, alert_received=True))
    alert = steps[-1]
    assert not alert.done and "the page has not gone out yet" in alert.detail
    done = checklist.steps(replace(NOTHING, verified_method=True, test_delivered=True,
                                   service="s", integration="i", pages_someone=True,
                                   alert_received=True, page_delivered=True))
    assert all(s.done for s in done) and checklist.next_step(done) is None
