"""What other features do, in the same transaction, when an incident's timeline grows.

Features above `incidents` react to incident events (e.g. paging starts escalation on
`created`, stops it on acknowledgement, restarts it on a severity raise). `incidents` does not
import them: the composition root (`tocsin/wiring.py::INCIDENT_HOOKS`, one explicit list)
installs the hooks on the runtime's session factories, and `after_event` calls them from the
session. Each reaction writes rows (timers, outgoing messages) in the caller's transaction, so
it happens if and only if the incident change commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from tocsin.incidents.models import Incident

SESSION_KEY = "tocsin.incident_hooks"


class IncidentHook(Protocol):
    def __call__(self, session: Session, *, incident: Incident, kind: str,
                 data: dict[str, Any], now: datetime) -> None: ...


def install(factory: sessionmaker[Session], hooks: Sequence[IncidentHook]) -> None:
    """Sessions made by `factory` call `hooks`, in order, after each incident event."""
    factory.configure(info={**factory.kw.get("info", {}), SESSION_KEY: tuple(hooks)})


def after_event(session: Session, *, incident: Incident, kind: str, data: dict[str, Any],
                now: datetime) -> None:
    """Called by incidents.service.append_event after each event is added, with the entry's
    kind and data (most entries are queued as plain rows, not built as ORM objects)."""
    hooks: tuple[IncidentHook, ...] | None = session.info.get(SESSION_KEY)
    if hooks is None:  # a session from elsewhere would silently never page: refuse it
        raise RuntimeError("this session has no incident hooks: make it with a runtime built "
                           "by tocsin.wiring.build_runtime")
    for hook in hooks:
        hook(session, incident=incident, kind=kind, data=data, now=now)


# ---- views of restricted incidents ---------------------------------------------------------

VIEW_KEY = "tocsin.restricted_view_hook"


class RestrictedViewHook(Protocol):
    """Told of every read of a restricted incident by someone allowed to see it (the audit
    log records it; handed in by wiring.py)."""

    def __call__(self, session: Session, *, incident: Incident) -> None: ...


def install_view_hook(factory: sessionmaker[Session], hook: RestrictedViewHook) -> None:
    factory.configure(info={**factory.kw.get("info", {}), VIEW_KEY: hook})


def viewed(session: Session, incident: Incident) -> None:
    """Called by incidents.service.get_visible for a restricted incident it returns."""
    hook: RestrictedViewHook | None = session.info.get(VIEW_KEY)
    if hook is not None:
        hook(session, incident=incident)
