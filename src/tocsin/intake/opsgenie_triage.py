"""Triage of Opsgenie's actions on an existing alert: find the alert an action row names,
then acknowledge or close it (as events) or apply an edit to it.

Tocsin has no Opsgenie users, named escalations or snooze: assign, escalate and snooze are
recorded in the alert's log in words, and the escalation of its incident follows Tocsin's
own policy (docs/intake.md). The rows' meta was validated at arrival by
`intake/formats/opsgenie.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.alerts.models import Alert
from tocsin.alerts.normalized import NormalizedEvent
from tocsin.alerts.service import IngestResult, load_alert, log_action
from tocsin.intake.formats.opsgenie import action_event, alert_named
from tocsin.intake.models import InboxRow

NOTE_CHARS = 500  # alert_events.note


def dedup_key_of(session: Session, row: InboxRow) -> str | None:
    """The dedup key of the alert an action row names, None when it names none."""
    named = alert_named(row.meta)
    if named is None or isinstance(named, str):
        return named
    return session.scalars(select(Alert.dedup_key).where(
        Alert.integration_id == row.integration_id, Alert.id == named)).first()


def events_from_act(session: Session, row: InboxRow) -> list[NormalizedEvent]:
    """An acknowledge or close row's event; [] (accepted, ignored, as Opsgenie's
    asynchronous API does) when it names no alert."""
    dedup_key = dedup_key_of(session, row)
    return [] if dedup_key is None else [action_event(row, str(dedup_key))]


def _by(meta: Mapping[str, Any]) -> str:
    return f" by {meta['user']}" if meta.get("user") else ""


def apply_edit(session: Session, row: InboxRow, *, now: datetime) -> list[IngestResult]:
    """Apply an edit row to the alert it names; [] (accepted, ignored) when none."""
    meta = row.meta
    dedup_key = dedup_key_of(session, row)
    alert = None if dedup_key is None else load_alert(
        session, integration_id=row.integration_id, dedup_key=dedup_key)
    if alert is None:
        return []
    action, by, note = meta["action"], _by(meta), str(meta.get("note", ""))
    raw = json.dumps(meta, sort_keys=True)
    if action == "note":
        return [log_action(session, alert, action="note", outcome="noted", now=now,
                           note=f"Note{by}: {note}"[:NOTE_CHARS], raw=raw)]
    if action == "add_tags":
        alerts.add_tags(alert, meta["tags"])
        words = f"Tags added{by}: {', '.join(meta['tags'])}"
    elif action == "remove_tags":
        alerts.remove_tags(alert, meta["tags"])
        words = f"Tags removed{by}: {', '.join(meta['tags'])}"
    elif action == "priority":
        alerts.set_source_severity(alert, meta["priority"])
        words = f"Priority set to {meta['priority']}{by} (the incident's severity is kept)"
    elif action == "assign":
        words = (f"Assignment to {meta['owner']} requested{by}: Tocsin has no Opsgenie users; "
                 "the on-call engineers stay responsible")
    elif action == "escalate":
        words = (f"Escalation to {meta['escalation']} requested{by}: the incident follows "
                 "its service's escalation policy")
    else:
        words = (f"Snooze until {meta['end_time']} requested{by}: recorded only; "
                 "use a silence to stop pages")
    if note:
        words += f". Note: {note}"
    return [log_action(session, alert, action=action[:16], outcome="recorded", now=now,
                       note=words[:NOTE_CHARS], raw=raw)]
