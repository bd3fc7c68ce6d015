"""The metrics summary row reads each incident entry before other hooks react to it."""

from __future__ import annotations

from tocsin.analytics import summary
from tocsin.wiring import INCIDENT_HOOKS


def test_the_summary_hook_is_the_first_incident_hook() -> None:
    # Another hook first would write entries (a checklist, a webhook row's event) that the
    # summary then folds into a new incident's row twice (seen as a duplicate row).
    assert INCIDENT_HOOKS[0] is summary.on_incident_event
    assert INCIDENT_HOOKS.count(summary.on_incident_event) == 1
