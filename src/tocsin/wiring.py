"""The composition root's explicit lists: how lower features reach higher ones.

A feature never imports a feature above it. Where it must call one (an incident event starts
escalation), it declares what it needs (a Protocol in its own package) and this module, at the
top of the import graph, hands it the implementation when the runtime is built. Like
`jobs.py::JOBS` and the routers in `app.py`, each list is read top to bottom.
"""

from __future__ import annotations

from tocsin.alerts import hooks as alert_hooks
from tocsin.analytics import summary as analytics_summary
from tocsin.analytics.prometheus import IncidentCollector
from tocsin.audit import service as audit
from tocsin.chatops import service as chatops
from tocsin.clock import Clock
from tocsin.escalation import service as escalation
from tocsin.incidents import hooks as incident_hooks
from tocsin.knownerrors import service as knownerrors
from tocsin.postmortems import service as postmortems
from tocsin.respond import service as respond
from tocsin.runtime import Runtime, open_runtime
from tocsin.security import service as security
from tocsin.settings import Settings
from tocsin.tables import metadata
from tocsin.webhooks import service as webhooks

# After each incident event, in the event's transaction (incidents/hooks.py).
INCIDENT_HOOKS: tuple[incident_hooks.IncidentHook, ...] = (
    escalation.on_incident_event,  # paging: start, stop, restart escalation
    respond.on_incident_event,  # checklists on declaration and severity raises
    webhooks.on_incident_event,  # event webhook deliveries (outbox rows)
    postmortems.on_incident_event,  # learning: a resolved incident may need a post-mortem
    knownerrors.on_incident_event,  # learning: suggest known errors and similar incidents
)
INCIDENT_HOOKS += (chatops.on_incident_event,)  # chat: channels, summaries, alert messages
# Metrics: the incident's stored summary row follows its log (analytics/summary.py). First,
# so that it reads each entry before the entries other hooks write in reaction to it.
INCIDENT_HOOKS = (analytics_summary.on_incident_event, *INCIDENT_HOOKS)
assert INCIDENT_HOOKS[0] is analytics_summary.on_incident_event, \
    "the metrics summary hook must run before every hook that writes entries"

# After each change of an alert (created, acknowledged, resolved), in its transaction
# (alerts/hooks.py).
ALERT_HOOKS: tuple[alert_hooks.AlertHook, ...] = (
    webhooks.on_alert_event,  # event webhook deliveries (outbox rows)
)


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """The runtime every process uses: database, clock, metrics, and the hooks above."""
    runtime = open_runtime(settings, clock)
    wire(runtime)
    runtime.factory = build_runtime
    return runtime


def wire(runtime: Runtime) -> None:
    """Install the lists above on `runtime`'s session factories."""
    assert metadata.tables, "every feature's tables are known (tocsin/tables.py)"
    for factory in (runtime.sessions, runtime.read_sessions):
        # Security incidents start their notification clocks (security/).
        incident_hooks.install(factory, (*INCIDENT_HOOKS, security.clock_hook(runtime.settings)))
        chatops.install(factory, runtime.settings)  # what the chat hook needs to know
        alert_hooks.install(factory, ALERT_HOOKS)
        # Every read of a restricted incident is audited (audit/).
        incident_hooks.install_view_hook(factory, audit.restricted_view_hook(runtime))
    # Every change of configuration and access is recorded in the audit log (audit/).
    audit.install(runtime.sessions, lambda: runtime.clock.now())
    # Incident and paging figures on /metrics, read from the database at scrape time.
    runtime.metrics.registry.register(IncidentCollector(runtime.read_sessions))
