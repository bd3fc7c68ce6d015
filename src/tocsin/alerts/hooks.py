"""What other features do, in the same transaction, when an alert changes state.

Like incidents/hooks.py: `alerts` does not import the features above it that react to its
alerts (event webhooks publish them). The composition root (`tocsin/wiring.py::ALERT_HOOKS`)
installs the hooks on the runtime's session factories, and triage calls `after_alert` when an
alert is created (fired, whether an incident took it or not), acknowledged or resolved. A
repeat of an alert that is already open is not a change and calls nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from tocsin.alerts.models import Alert

SESSION_KEY = "tocsin.alert_hooks"


class AlertHook(Protocol):
    def __call__(self, session: Session, *, alert: Alert, change: str, outcome: str,
                 note: str, now: datetime) -> None: ...


def install(factory: sessionmaker[Session], hooks: Sequence[AlertHook]) -> None:
    """Sessions made by `factory` call `hooks`, in order, after each change of an alert."""
    factory.configure(info={**factory.kw.get("info", {}), SESSION_KEY: tuple(hooks)})


def after_alert(session: Session, *, alert: Alert, change: str, outcome: str, note: str,
                now: datetime) -> None:
    """`change` is "created", "acknowledged" or "resolved"; `outcome` is what triage did
    (alerts.service.IngestOutcome: created, grouped, reopened, suppressed, ...). A session
    with no hooks installed (a tool's own session) publishes nothing."""
    for hook in session.info.get(SESSION_KEY, ()):
        hook(session, alert=alert, change=change, outcome=outcome, note=note, now=now)
