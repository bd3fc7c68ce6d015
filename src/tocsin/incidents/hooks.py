"""What other features do, in the same transaction, when an incident's timeline grows.

The one explicit place where features react to incident events (e.g. paging starts
escalation on `created`, stops it on acknowledgement, restarts it on a severity raise). Each
reaction writes rows (timers, outgoing messages) in the caller's transaction, so it happens
if and only if the incident change commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.incidents.models import Incident


def after_event(session: Session, *, incident: Incident, kind: str, data: dict[str, Any],
                now: datetime) -> None:
    """Called by incidents.service.append_event after each event is added, with the entry's
    kind and data (most entries are queued as plain rows, not built as ORM objects)."""
    # Imported here: escalation depends on incidents.service, which imports this module.
    from tocsin.escalation import service as escalation

    escalation.on_incident_event(session, incident=incident, kind=kind, data=data, now=now)
