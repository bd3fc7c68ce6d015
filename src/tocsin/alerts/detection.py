"""The one place detection hands alerts to triage (`tocsin.alerts.service.ingest_event`).

Checks, heartbeats and probes all build a `NormalizedEvent` here and call intake in the
caller's transaction, so the alert (and any incident) commits with the status change that
caused it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.service import IngestResult, ingest_event
from tocsin.settings import Settings


def build_event(*, action: EventAction, source: str, dedup_key: str, summary: str,
                service_id: int, now: datetime, details: dict[str, Any] | None = None,
                labels: dict[str, str] | None = None) -> NormalizedEvent:
    return NormalizedEvent(action=action, dedup_key=dedup_key, summary=summary[:500],
                           source=source, occurred_at=now, integration_id=None,
                           service_id=service_id, labels=labels or {},
                           details=details or {})


def raise_alert(session: Session, event: NormalizedEvent, *, now: datetime,
                settings: Settings) -> IngestResult:
    """Send `event` through triage (routing, classification, dedup, incident) right here, in
    the caller's transaction."""
    return ingest_event(session, event, now=now, settings=settings)
