"""Opsgenie Alert API routes: create, acknowledge and close by alias or id, request status,
`GenieKey` auth (the other actions: opsgenie_edits.py; reads: opsgenie_reads.py).

Answers use Opsgenie's shapes: 202 `{"result": "Request will be processed", "took",
"requestId"}`; errors `{"message", "took", "requestId"}` (422 with an `errors` map for bad
fields, 401 for keys, 429 with Retry-After under overload). Bodies and parameters are
validated by `intake/formats/opsgenie.py`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import Alert, IntegrationKind
from tocsin.alerts.normalized import EventAction
from tocsin.intake.errors import BadInput, BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.formats.opsgenie import (
    ACTIONS,
    FORMAT_ACT,
    FORMAT_CREATE,
    Fields,
    action_meta,
    check_identifier,
    parse_create,
)
from tocsin.intake.models import InboxRow, InboxStatus
from tocsin.intake.routes.common import hub_of, inbox_row, read_json

router = APIRouter(tags=["intake: Opsgenie"])
KINDS = (IntegrationKind.OPSGENIE.value,)


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
        check_identifier(identifier, kind)
        body, raw = await read_json(request, hub.runtime.settings.intake_max_body_bytes) \
            if request.headers.get("content-length") not in (None, "0") else ({}, "")
        params: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        meta = action_meta(action, identifier, kind, params, request.query_params, fields)
        integration = await hub.keys.require(key, KINDS)
        await hub.accept(inbox_row(integration, fmt, raw, received_at=hub.runtime.clock.now(),
                                   meta=meta, request_id=request_id))
    except (BodyTooLarge, BadInput, UnknownKey, Overloaded) as exc:
        return error_answer(exc, started, hub.runtime.settings)
    return answer(202, started, request_id, result="Request will be processed")


@router.post("/v2/alerts/{identifier}/acknowledge", status_code=202,
             summary="Opsgenie: acknowledge alert")
async def acknowledge(identifier: str, request: Request) -> Response:
    return await act(request, identifier, EventAction.ACKNOWLEDGE.value)


@router.post("/v2/alerts/{identifier}/close", status_code=202, summary="Opsgenie: close alert")
async def close(identifier: str, request: Request) -> Response:
    return await act(request, identifier, EventAction.RESOLVE.value)


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
