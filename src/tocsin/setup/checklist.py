"""The first-hour checklist: from a fresh install to the first real page. A pure function of
plain facts about the install and the person looking; `service.py` gathers the facts.

Each step says whether it is done, where to do it on the web, and the next command to run in
the terminal, so the web card and `tocsin setup` read the same.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Facts:
    verified_method: bool      # the user has a verified contact method
    test_delivered: bool       # a test message reached one of the user's methods
    test_pending: bool         # a test message is on its way
    service: str | None        # a service's name (the first), None: no service yet
    integration: str | None    # an integration's name (the first), None: no sender yet
    pages_someone: bool        # a service's policy reaches a person at its first level
    alert_received: bool       # an alert came in through an integration
    page_delivered: bool       # a page went out for an incident an alert opened


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    detail: str   # what is missing, or what was done, in words
    link: str     # the web page to do it on
    command: str  # the next command to run in the terminal


def steps(facts: Facts) -> list[Step]:
    service = facts.service or "checkout"
    integration = facts.integration or "prometheus"
    return [
        Step("contact_method", "Add a contact method and verify it", facts.verified_method,
             "a verified contact method: pages can reach you" if facts.verified_method
             else "no verified contact method yet: a page could not reach you",
             "/me", "tocsin user contact-method add email you@example.com"
             if not facts.verified_method else "tocsin user contact-method list"),
        Step("test_message", "Send yourself a test message", facts.test_delivered,
             "a test message reached you" if facts.test_delivered
             else "a test message is on its way" if facts.test_pending
             else "no test message sent yet", "/me",
             "tocsin user contact-method test METHOD"),
        Step("service", "Create a service", facts.service is not None,
             f"service {facts.service}" if facts.service else "no service yet",
             "/services/new", f"tocsin service create {service} --tier critical"),
        Step("sender", "Connect a sender (your monitoring's alerts)",
             facts.integration is not None,
             f"integration {facts.integration}" if facts.integration
             else "no integration yet: alerts have nowhere to arrive", "/integrations",
             f"tocsin integration create --service {service} --kind alertmanager "
             f"--name {integration}"),
        Step("who_is_paged", "Pick who is paged (a policy, or a schedule in one)",
             facts.pages_someone,
             "a service's policy pages someone reachable" if facts.pages_someone
             else "no service has a policy whose first level reaches someone with a "
                  "verified contact method", "/escalation",
             f"tocsin escalation create primary --level me && tocsin service update "
             f"{service} -p primary"),
        Step("test_alert", "Send a test alert and watch it page you", facts.page_delivered,
             "a test alert paged someone" if facts.page_delivered
             else "an alert arrived; the page has not gone out yet" if facts.alert_received
             else "no alert received yet", "/#setup",
             f"tocsin integration test {integration}"),
    ]


def next_step(all_steps: list[Step]) -> Step | None:
    return next((s for s in all_steps if not s.done), None)
