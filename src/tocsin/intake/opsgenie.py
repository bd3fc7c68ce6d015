"""Opsgenie Alert API: create, acknowledge and close by alias or id, request status,
`GenieKey` auth (the other actions: opsgenie_edits.py; reads: opsgenie_reads.py).

Answers use Opsgenie's shapes: 202 `{"result": "Request will be processed", "took",
"requestId"}`; errors `{"message", "took", "requestId"}` (422 with an `errors` map for bad
fields, 401 for keys, 429 with Retry-After under overload). Without an alias, the alert is
keyed by a hash of its message, so identical messages deduplicate.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import Alert, IntegrationKind
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.intake.common import hub_of, inbox_row, read_json, signals_from, string_map
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.models import InboxRow, InboxStatus
from tocsin.limits import fit, whole_number

router = APIRouter(tags=["intake: Opsgenie"])
KINDS = (IntegrationKind.OPSGENIE.value,)
FORMAT_CREATE, FORMAT_ACT = "opsgenie", "opsgenie_action"
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
DEDUP_KEY_MAX = 255  # alerts.dedup_key: String(255)
MAX_ALIAS = 512  # Opsgenie's own limit


def answer(status: int, started: float, request_id: str | None = None,
           **body: Any) -> JSONResponse:
    headers = {}
    if "retry_after" in body:
        headers["Retry-After"] = str(body.pop("retry_after"))
    return JSONResponse({**body, "took": round(time.perf_counter() - started, 3),
                         "requestId": request_id or str(uuid.uuid4())},
                        status_code=status, headers=headers)


def genie_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "geniekey" or not key.strip():
        raise UnknownKey
    return key.strip()


def alias_key(alias: str) -> str:
    """The alert's dedup key for an alias. Opsgenie takes aliases of up to 512 characters,
    the dedup key column holds 255: a longer alias keeps its start and ends in its hash,
    the same for the create and for the acknowledge or close naming it."""
    return fit(alias, DEDUP_KEY_MAX)


def parse_create(body: Any, *, now: datetime) -> NormalizedEvent:
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


def error_answer(exc: Exception, started: float, settings: Any) -> JSONResponse:
    if isinstance(exc, BodyTooLarge):
        return answer(413, started, message="Request body is too large "
                      f"(limit {settings.intake_max_body_bytes} bytes).")
    if isinstance(exc, BadInput):
        errors: dict[str, str] = {}
        for message in exc.errors:
            field, _, text = message.partition(": ")
            errors[field if text else "body"] = text or message
        return answer(422, started, message="Request body is not processable. Please check "
                      "the errors.", errors=errors)
    if isinstance(exc, UnknownKey):
        return answer(401, started, message="Could not authenticate: send "
                      "'Authorization: GenieKey <integration key>'.")
    return answer(429, started, message="Too many requests, retry later.",
                  retry_after=settings.intake_retry_after_seconds)


async def accept_create(request: Request) -> Response:
    started = time.perf_counter()
    hub = hub_of(request)
    request_id = str(uuid.uuid4())
    try:
        key = genie_key(request)
        body, raw = await read_json(request, hub.runtime.settings.intake_max_body_bytes)
        now = hub.runtime.clock.now()
        parse_create(body, now=now)
        integration = await hub.keys.require(key, KINDS)
        await hub.accept(inbox_row(integration, FORMAT_CREATE, raw, received_at=now,
                                   request_id=request_id))
    except (BodyTooLarge, BadInput, UnknownKey, Overloaded) as exc:
        return error_answer(exc, started, hub.runtime.settings)
    return answer(202, started, request_id, result="Request will be processed")


@router.post("/v2/alerts", status_code=202, summary="Opsgenie: create alert")
async def create(request: Request) -> Response:
    return await accept_create(request)


Fields = Callable[[Mapping[str, Any], Request], dict[str, Any]]


async def act(request: Request, identifier: str, action: str, *, fmt: str = FORMAT_ACT,
              fields: Fields | None = None) -> Response:
    """Accept an action on an existing alert into the inbox, as Opsgenie does (202, then
    applied in order after the create before it). `fields` reads the action's own
    parameters into the row's meta, raising BadInput for a bad one."""
    started = time.perf_counter()
    hub = hub_of(request)
    request_id = str(uuid.uuid4())
    kind = request.query_params.get("identifierType", "id")
    try:
        key = genie_key(request)
        if kind not in ("id", "alias", "tiny"):
            raise BadInput(["identifierType: must be id, alias or tiny"])
        if "\x00" in identifier:  # PostgreSQL cannot store it
            raise BadInput(["identifier: NUL characters are not accepted"])
        body, raw = await read_json(request, hub.runtime.settings.intake_max_body_bytes) \
            if request.headers.get("content-length") not in (None, "0") else ({}, "")
        params: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        extra = fields(params, request) if fields is not None else {}
        source = params.get("source") or request.query_params.get("source")
        integration = await hub.keys.require(key, KINDS)
        # Cut as the create's alias is, so the two name the same alert.
        meta = {"action": action, "identifier": identifier[:MAX_ALIAS],
                "identifier_type": kind, "source": str(source or "opsgenie")[:100], **extra}
        await hub.accept(inbox_row(integration, fmt, raw, received_at=hub.runtime.clock.now(),
                                   meta=meta, request_id=request_id))
    except (BodyTooLarge, BadInput, UnknownKey, Overloaded) as exc:
        return error_answer(exc, started, hub.runtime.settings)
    return answer(202, started, request_id, result="Request will be processed")


def events_from_create(row: InboxRow) -> list[NormalizedEvent]:
    event = parse_create(json.loads(row.body), now=row.received_at)
    return [replace(event, integration_id=row.integration_id)]


def dedup_key_of(session: Session, row: InboxRow) -> str | None:
    """The dedup key of the alert an action row names, None when it names none."""
    meta = row.meta
    if meta["identifier_type"] == "alias":
        return alias_key(str(meta["identifier"]))
    # Opsgenie ids are ours here: the numeric alert id, or its tiny form. One that is
    # no id at all (not a number, or past any id) names no alert.
    alert_id = whole_number(str(meta["identifier"]))
    if alert_id is None:
        return None
    return session.scalars(select(Alert.dedup_key).where(
        Alert.integration_id == row.integration_id, Alert.id == alert_id)).first()


def events_from_act(session: Session, row: InboxRow) -> list[NormalizedEvent]:
    meta = row.meta
    dedup_key = dedup_key_of(session, row)
    if dedup_key is None:
        return []  # accepted and ignored, as Opsgenie's asynchronous API does
    return [NormalizedEvent(action=EventAction(meta["action"]), dedup_key=str(dedup_key),
                            summary="", source=meta["source"], occurred_at=row.received_at,
                            integration_id=row.integration_id)]


@router.post("/v2/alerts/{identifier}/acknowledge", status_code=202,
             summary="Opsgenie: acknowledge alert")
async def acknowledge(identifier: str, request: Request) -> Response:
    return await act(request, identifier, EventAction.ACKNOWLEDGE.value)


@router.post("/v2/alerts/{identifier}/close", status_code=202, summary="Opsgenie: close alert")
async def close(identifier: str, request: Request) -> Response:
    return await act(request, identifier, EventAction.RESOLVE.value)


# Each action's name in a request status, and the status once done.
ACTIONS = {FORMAT_CREATE: ("Create", "Created alert"),
           EventAction.ACKNOWLEDGE.value: ("Acknowledge", "Acknowledged alert"),
           EventAction.RESOLVE.value: ("Close", "Closed alert"),
           "note": ("AddNote", "Added note"), "add_tags": ("AddTags", "Added tags"),
           "remove_tags": ("RemoveTags", "Removed tags"),
           "priority": ("UpdatePriority", "Updated priority"),
           "assign": ("Assign", "Recorded assignment"),
           "escalate": ("Escalate", "Recorded escalation"), "snooze": ("Snooze", "Snoozed alert")}


def _request_status(runtime: Any, request_id: str, integration_id: int) -> dict[str, Any] | None:
    """Opsgenie's `data` object for a processed request; None while unknown or pending."""
    with runtime.read_sessions() as session:
        row = session.scalars(select(InboxRow).where(
            InboxRow.request_id == request_id,
            InboxRow.integration_id == integration_id)).first()
        if row is None or row.status == InboxStatus.PENDING.value:
            return None
        action, done = ACTIONS.get(row.meta.get("action", FORMAT_CREATE), ACTIONS[FORMAT_CREATE])
        ok = row.status == InboxStatus.DONE.value
        first = (row.outcome or [{}])[0] if ok else {}
        alert_id = first.get("alert_id") or None
        if not ok:
            status = f"Failed: {row.error or 'triage failed'}"
        elif alert_id is None:
            status = "Alert does not exist"
        else:
            status = done
        alias = row.meta.get("identifier") if row.meta.get("identifier_type") == "alias" else ""
        if not alias and alert_id is not None:  # the create's alias, or the one made for it
            alias = session.scalar(select(Alert.dedup_key).where(Alert.id == alert_id))
        return {"success": ok, "isSuccess": ok, "action": action, "status": status,
                "processedAt": (row.processed_at or row.received_at).isoformat(),
                "integrationId": str(row.integration_id),
                "alertId": str(alert_id or ""), "alias": alias or ""}


@router.get("/v2/alerts/requests/{request_id}", summary="Opsgenie: status of a request")
async def request_status(request_id: str, request: Request) -> Response:
    """What became of an accepted request (kept for `intake_done_retention_minutes`)."""
    started = time.perf_counter()
    hub = hub_of(request)
    try:
        integration = await hub.keys.require(genie_key(request), KINDS)
    except UnknownKey as exc:
        return error_answer(exc, started, hub.runtime.settings)
    data = None if "\x00" in request_id else await run_in_threadpool(
        _request_status, hub.runtime, request_id[:36], integration.id)
    if data is None:
        return answer(404, started, message="Request not found. It might not be processed, "
                      "yet.")
    return answer(200, started, data=data)
