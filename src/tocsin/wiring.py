"""The composition root's explicit lists: how lower features reach higher ones.

A feature never imports a feature above it. Where it must call one (an incident event starts
escalation), it declares what it needs (a Protocol in its own package) and this module, at the
top of the import graph, hands it the implementation when the runtime is built. Like
`jobs.py::JOBS` and the routers in `app.py`, each list is read top to bottom.
"""

from __future__ import annotations

from tocsin.audit import service as audit
from tocsin.clock import Clock
from tocsin.escalation import service as escalation
from tocsin.incidents import hooks as incident_hooks
from tocsin.runtime import Runtime, open_runtime
from tocsin.security import service as security
from tocsin.settings import Settings
from tocsin.tables import metadata

# After each incident event, in the event's transaction (incidents/hooks.py).
INCIDENT_HOOKS: tuple[incident_hooks.IncidentHook, ...] = (
    escalation.on_incident_event,  # paging: start, stop, restart escalation
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
        # Every read of a restricted incident is audited (audit/).
        incident_hooks.install_view_hook(factory, audit.restricted_view_hook(runtime))
    # Every change of configuration and access is recorded in the audit log (audit/).
    audit.install(runtime.sessions, lambda: runtime.clock.now())
