"""The one place detection hands alerts to triage (`tocsin.alerts.service.ingest_event`).

Checks, heartbeats and probes all build a `NormalizedEvent` here and call intake in the
caller's transaction, so the alert (and any incident) commits with the status change that
caused it.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.settings import Settings

log = logging.getLogger("tocsin.checks")


def build_event(*, action: EventAction, source: str, dedup_key: str, summary: str,
                service_id: int, now: datetime, details: dict[str, Any] | None = None,
                labels: dict[str, str] | None = None) -> NormalizedEvent:
    return NormalizedEvent(action=action, dedup_key=dedup_key, summary=summary[:500],
                           source=source, occurred_at=now, integration_id=None,
                           service_id=service_id, labels=labels or {},
                           details=details or {})


def raise_alert(session: Session, event: NormalizedEvent, *, now: datetime,
                settings: Settings) -> Any:
    """Send `event` through triage; returns intake's IngestResult (None if intake is absent)."""
    try:
        intake = importlib.import_module("tocsin.alerts.service")
    except ImportError:
        log.warning("alert intake is not installed; dropping %s %s", event.action,
                    event.dedup_key)
        return None
    return intake.ingest_event(session, event, now=now, settings=settings)
