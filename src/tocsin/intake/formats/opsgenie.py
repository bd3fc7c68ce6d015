"""Opsgenie Alert API: the create body, and the actions on an existing alert named by alias
or id — acknowledge and close, and the edits (notes, tags, priority, assign, escalate,
snooze).

Without an alias, a created alert is keyed by a hash of its message, so identical messages
deduplicate. An action is stored as the inbox row's meta (`action_meta`); which alert it
names is found at triage (`intake/opsgenie_triage.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.intake.errors import BadInput
from tocsin.intake.formats.fields import Stored, parse_time, signals_from, string_map
from tocsin.limits import fit, whole_number

KIND = "opsgenie"  # the integration kind
# The inbox rows' formats: a create, an acknowledge or close, an edit.
FORMAT_CREATE, FORMAT_ACT, FORMAT_EDIT = "opsgenie", "opsgenie_action", "opsgenie_edit"
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
IDENTIFIER_TYPES = ("id", "alias", "tiny")
DEDUP_KEY_MAX = 255  # alerts.dedup_key: String(255)
MAX_ALIAS = 512  # Opsgenie's own limit
MAX_TAGS, TAG_CHARS = 20, 50

# Each action's name in a request status, and the status once done.
ACTIONS = {FORMAT_CREATE: ("Create", "Created alert"),
           EventAction.ACKNOWLEDGE.value: ("Acknowledge", "Acknowledged alert"),
           EventAction.RESOLVE.value: ("Close", "Closed alert"),
           "note": ("AddNote", "Added note"), "add_tags": ("AddTags", "Added tags"),
           "remove_tags": ("RemoveTags", "Removed tags"),
           "priority": ("UpdatePriority", "Updated priority"),
           "assign": ("Assign", "Recorded assignment"),
           "escalate": ("Escalate", "Recorded escalation"), "snooze": ("Snooze", "Snoozed alert")}


def alias_key(alias: str) -> str:
    """The alert's dedup key for an alias. Opsgenie takes aliases of up to 512 characters,
    the dedup key column holds 255: a longer alias keeps its start and ends in its hash,
    the same for the create and for the acknowledge or close naming it."""
    return fit(alias, DEDUP_KEY_MAX)


def parse_create(body: Any, *, now: datetime) -> NormalizedEvent:
    """A create-alert body's event; raises BadInput with `field: message` errors."""
    if not isinstance(body, Mapping):
        raise BadInput(["body: must be a JSON object"])
    errors: dict[str, str] = {}

    def text(name: str, limit: int, required: bool = False) -> str:
        value = body.get(name)
        if value is None or value == "":
            if required:
                errors[name] = f"{name.capitalize()} can not be empty."
            return ""
        if not isinstance(value, str):
            errors[name] = f"{name} must be a string."
            return ""
        return value[:limit]  # Opsgenie truncates over-long fields rather than refusing

    message = text("message", 130, required=True)
    alias = text("alias", MAX_ALIAS)
    description = text("description", 15000)
    entity, source = text("entity", 512), text("source", 100)
    priority = body.get("priority", "P3")
    if priority not in PRIORITIES:
        errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]."
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors["tags"] = "Tags must be a list of strings."
        tags = []
    details = body.get("details", {})
    if not isinstance(details, Mapping):
        errors["details"] = "Details must be a map of strings."
        details = {}
    if errors:
        raise BadInput([f"{k}: {v}" for k, v in errors.items()])
    detail_map = string_map(details)
    labels = {**detail_map, **{f"tag:{t[:50]}": "true" for t in tags[:20]}}
    if entity:
        labels["entity"] = entity
    return NormalizedEvent(
        action=EventAction.TRIGGER,
        dedup_key=alias_key(alias) if alias else "msg-" + hashlib.sha256(
            message.encode()).hexdigest()[:24],
        summary=message, source=source or "opsgenie", occurred_at=now, severity=str(priority),
        labels=labels, details={"description": description, **detail_map},
        tags=list(dict.fromkeys(t[:50] for t in tags[:20])), signals=signals_from(detail_map))


def events_from_create(row: Stored) -> list[NormalizedEvent]:
    event = parse_create(json.loads(row.body), now=row.received_at)
    return [replace(event, integration_id=row.integration_id)]


# ---- actions on an existing alert -----------------------------------------------------------

# Reads an action's own parameters (from its body, and its query string) into the row's
# meta; raises BadInput for a bad one.
Fields = Callable[[Mapping[str, Any], Mapping[str, str]], dict[str, Any]]


def check_identifier(identifier: str, kind: str) -> None:
    """The alert an action names, as given in its path and `identifierType`."""
    if kind not in IDENTIFIER_TYPES:
        raise BadInput(["identifierType: must be id, alias or tiny"])
    if "\x00" in identifier:  # PostgreSQL cannot store it
        raise BadInput(["identifier: NUL characters are not accepted"])


def action_meta(action: str, identifier: str, kind: str, params: Mapping[str, Any],
                query: Mapping[str, str], fields: Fields | None = None) -> dict[str, Any]:
    """What an inbox row keeps of an action; raises BadInput for a bad parameter."""
    extra = fields(params, query) if fields is not None else {}
    source = params.get("source") or query.get("source")
    # Cut as the create's alias is, so the two name the same alert.
    return {"action": action, "identifier": identifier[:MAX_ALIAS], "identifier_type": kind,
            "source": str(source or "opsgenie")[:100], **extra}


def alert_named(meta: Mapping[str, Any]) -> str | int | None:
    """What an action names: an alert's dedup key (by alias, a str) or its id (an int);
    None when it names no alert. Opsgenie ids are ours here: the numeric alert id, or its
    tiny form; one that is no id at all (not a number, or past any id) names none."""
    if meta["identifier_type"] == "alias":
        return alias_key(str(meta["identifier"]))
    return whole_number(str(meta["identifier"]))


def action_event(row: Stored, dedup_key: str) -> NormalizedEvent:
    """A stored acknowledge or close, of the alert with `dedup_key`."""
    meta = row.meta
    return NormalizedEvent(action=EventAction(meta["action"]), dedup_key=dedup_key,
                           summary="", source=meta["source"], occurred_at=row.received_at,
                           integration_id=row.integration_id)


def _text(params: Mapping[str, Any], name: str, limit: int) -> str:
    value = params.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput([f"{name}: must be a string."])
    return value[:limit]


def _common(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    """The `user` and `note` every Opsgenie action may carry (body, or query for DELETE)."""
    return {"user": _text(params, "user", 100) or query.get("user", "")[:100],
            "note": _text(params, "note", 25000) or query.get("note", "")[:25000]}


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [t for t in value.split(",") if t.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise BadInput(["tags: Tags must be a non-empty list of strings."])
    return list(dict.fromkeys(t.strip()[:TAG_CHARS] for t in value[:MAX_TAGS]))


def note_fields(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    fields = _common(params, query)
    if not fields["note"]:
        raise BadInput(["note: Note can not be empty."])
    return fields


def add_tags_fields(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    return {**_common(params, query), "tags": _tags(params.get("tags"))}


def remove_tags_fields(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    return {**_common(params, query), "tags": _tags(query.get("tags"))}


def priority_fields(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    priority = params.get("priority")
    if priority not in PRIORITIES:
        raise BadInput(["priority: Priority should be one of [P1, P2, P3, P4, P5]."])
    return {**_common(params, query), "priority": priority}


def _named(params: Mapping[str, Any], field: str, names: tuple[str, ...]) -> str:
    target = params.get(field)
    found = [str(target[n])[:200] for n in names
             if isinstance(target, Mapping) and isinstance(target.get(n), str) and target[n]]
    if not found:
        raise BadInput([f"{field}: must name one of {', '.join(names)}."])
    return found[0]


def assign_fields(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    return {**_common(params, query), "owner": _named(params, "owner", ("username", "id"))}


def escalate_fields(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    return {**_common(params, query),
            "escalation": _named(params, "escalation", ("name", "id"))}


def snooze_fields(params: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    errors: list[str] = []
    never = datetime.min
    end = parse_time(params.get("endTime"), never, errors, "endTime")
    if errors or end is never:
        raise BadInput(errors or ["endTime: must be an ISO 8601 instant."])
    return {**_common(params, query), "end_time": end.isoformat()}
