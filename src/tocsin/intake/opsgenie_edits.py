"""Opsgenie Alert API: the actions senders take on an alert after creating it — notes, tags,
priority, assign, escalate, snooze.

Accepted into the inbox like acknowledge and close (202, then applied in arrival order, so
an action right after its create finds the alert), and answered in request status. Notes,
tags and priority change the alert. Tocsin has no Opsgenie users, named escalations or
snooze: assign, escalate and snooze are recorded in the alert's log in words, and the
escalation of its incident follows Tocsin's own policy (docs/intake.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.alerts.service import IngestResult, load_alert, log_action
from tocsin.intake import opsgenie
from tocsin.intake.common import parse_time
from tocsin.intake.errors import BadInput
from tocsin.intake.models import InboxRow

router = APIRouter(tags=["intake: Opsgenie"])
FORMAT = "opsgenie_edit"
NOTE_CHARS = 500  # alert_events.note
MAX_TAGS, TAG_CHARS = 20, 50


def _text(params: Mapping[str, Any], name: str, limit: int) -> str:
    value = params.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput([f"{name}: must be a string."])
    return value[:limit]


def _common(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    """The `user` and `note` every Opsgenie action may carry (body, or query for DELETE)."""
    query = request.query_params
    return {"user": _text(params, "user", 100) or query.get("user", "")[:100],
            "note": _text(params, "note", 25000) or query.get("note", "")[:25000]}


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [t for t in value.split(",") if t.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise BadInput(["tags: Tags must be a non-empty list of strings."])
    return list(dict.fromkeys(t.strip()[:TAG_CHARS] for t in value[:MAX_TAGS]))


def note_fields(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    fields = _common(params, request)
    if not fields["note"]:
        raise BadInput(["note: Note can not be empty."])
    return fields


def add_tags_fields(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    return {**_common(params, request), "tags": _tags(params.get("tags"))}


def remove_tags_fields(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    return {**_common(params, request), "tags": _tags(request.query_params.get("tags"))}


def priority_fields(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    priority = params.get("priority")
    if priority not in opsgenie.PRIORITIES:
        raise BadInput(["priority: Priority should be one of [P1, P2, P3, P4, P5]."])
    return {**_common(params, request), "priority": priority}


def _named(params: Mapping[str, Any], field: str, names: tuple[str, ...]) -> str:
    target = params.get(field)
    found = [str(target[n])[:200] for n in names
             if isinstance(target, Mapping) and isinstance(target.get(n), str) and target[n]]
    if not found:
        raise BadInput([f"{field}: must name one of {', '.join(names)}."])
    return found[0]


def assign_fields(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    return {**_common(params, request), "owner": _named(params, "owner", ("username", "id"))}


def escalate_fields(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    return {**_common(params, request),
            "escalation": _named(params, "escalation", ("name", "id"))}


def snooze_fields(params: Mapping[str, Any], request: Request) -> dict[str, Any]:
    errors: list[str] = []
    never = datetime.min
    end = parse_time(params.get("endTime"), never, errors, "endTime")
    if errors or end is never:
        raise BadInput(errors or ["endTime: must be an ISO 8601 instant."])
    return {**_common(params, request), "end_time": end.isoformat()}


# ---- routes ---------------------------------------------------------------------------------

@router.post("/v2/alerts/{identifier}/notes", status_code=202, summary="Opsgenie: add note")
async def add_note(identifier: str, request: Request) -> Response:
    return await opsgenie.act(request, identifier, "note", fmt=FORMAT, fields=note_fields)


@router.post("/v2/alerts/{identifier}/tags", status_code=202, summary="Opsgenie: add tags")
async def add_tags(identifier: str, request: Request) -> Response:
    return await opsgenie.act(request, identifier, "add_tags", fmt=FORMAT,
                              fields=add_tags_fields)


@router.delete("/v2/alerts/{identifier}/tags", status_code=202,
               summary="Opsgenie: remove tags")
async def remove_tags(identifier: str, request: Request) -> Response:
    return await opsgenie.act(request, identifier, "remove_tags", fmt=FORMAT,
                              fields=remove_tags_fields)


@router.put("/v2/alerts/{identifier}/priority", status_code=202,
            summary="Opsgenie: update priority")
async def update_priority(identifier: str, request: Request) -> Response:
    return await opsgenie.act(request, identifier, "priority", fmt=FORMAT,
                              fields=priority_fields)


@router.post("/v2/alerts/{identifier}/assign", status_code=202,
             summary="Opsgenie: assign (recorded in the alert's log)")
async def assign(identifier: str, request: Request) -> Response:
    return await opsgenie.act(request, identifier, "assign", fmt=FORMAT, fields=assign_fields)


@router.post("/v2/alerts/{identifier}/escalate", status_code=202,
             summary="Opsgenie: escalate (recorded in the alert's log)")
async def escalate(identifier: str, request: Request) -> Response:
    return await opsgenie.act(request, identifier, "escalate", fmt=FORMAT,
                              fields=escalate_fields)


@router.post("/v2/alerts/{identifier}/snooze", status_code=202,
             summary="Opsgenie: snooze (recorded in the alert's log)")
async def snooze(identifier: str, request: Request) -> Response:
    return await opsgenie.act(request, identifier, "snooze", fmt=FORMAT, fields=snooze_fields)


# ---- triage ---------------------------------------------------------------------------------

def _by(meta: Mapping[str, Any]) -> str:
    return f" by {meta['user']}" if meta.get("user") else ""


def apply(session: Session, row: InboxRow, *, now: datetime) -> list[IngestResult]:
    """Apply an action row to the alert it names; [] (accepted, ignored) when none."""
    meta = row.meta
    dedup_key = opsgenie.dedup_key_of(session, row)
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
