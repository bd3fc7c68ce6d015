"""Opsgenie Alert API read routes: get an alert (by id, tiny id or alias) and list alerts, in
Opsgenie's shapes, limited to the alerts of the integration whose key is sent. Any other
path under /v2/alerts answers Opsgenie's 404, not the API's problem+json."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tocsin.alerts.models import Alert, AlertStatus
from tocsin.intake.errors import BadInput, UnknownKey
from tocsin.intake.formats.opsgenie import MAX_ALIAS, PRIORITIES, alias_key
from tocsin.intake.routes import opsgenie
from tocsin.intake.routes.common import hub_of
from tocsin.limits import whole_number
from tocsin.runtime import Runtime

router = APIRouter(tags=["intake: Opsgenie"])
fallback = APIRouter()
LIST_LIMIT = 100  # Opsgenie's own maximum page


def _instant(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") \
        if value.tzinfo is None else value.isoformat()


def priority_of(alert: Alert) -> str:
    """The sender's P1-P5 when it sent one; else Tocsin's severity SEVn as Pn."""
    if alert.source_severity in PRIORITIES:
        return alert.source_severity
    return "P" + alert.severity.removeprefix("SEV") if alert.severity.startswith("SEV") \
        else "P3"


def base_alert(alert: Alert) -> dict[str, Any]:
    return {"id": str(alert.id), "tinyId": str(alert.id), "alias": alert.dedup_key,
            "message": alert.summary,
            "status": "closed" if alert.status == AlertStatus.RESOLVED.value else "open",
            "acknowledged": alert.acknowledged, "isSeen": alert.acknowledged,
            "tags": list(alert.tags), "snoozed": False, "count": alert.occurrences,
            "lastOccurredAt": _instant(alert.last_seen_at),
            "createdAt": _instant(alert.first_seen_at),
            "updatedAt": _instant(alert.resolved_at or alert.last_seen_at),
            "source": alert.source, "owner": "", "priority": priority_of(alert),
            "responders": [],
            "integration": {"id": str(alert.integration_id), "name": "", "type": "API"}}


def full_alert(alert: Alert) -> dict[str, Any]:
    details = {k: v if isinstance(v, str) else str(v) for k, v in alert.details.items()
               if k != "description"}
    return {**base_alert(alert), "entity": alert.labels.get("entity", ""),
            "description": str(alert.details.get("description", "")),
            "details": details, "actions": []}


def _find(session: Session, integration_id: int, identifier: str, kind: str) -> Alert | None:
    query = select(Alert).where(Alert.integration_id == integration_id)
    if kind == "alias":
        return session.scalars(query.where(
            Alert.dedup_key == alias_key(identifier))).first()
    alert_id = whole_number(identifier)
    return None if alert_id is None else session.scalars(
        query.where(Alert.id == alert_id)).first()


def _get(runtime: Runtime, integration_id: int, identifier: str,
         kind: str) -> dict[str, Any] | None:
    with runtime.read_sessions() as session:
        alert = _find(session, integration_id, identifier, kind)
        return None if alert is None else full_alert(alert)


def _list(runtime: Runtime, integration_id: int, offset: int, limit: int,
          newest_first: bool) -> list[dict[str, Any]]:
    with runtime.read_sessions() as session:
        order = Alert.id.desc() if newest_first else Alert.id.asc()
        rows = session.scalars(select(Alert).where(Alert.integration_id == integration_id)
                               .order_by(order).offset(offset).limit(limit)).all()
        return [base_alert(a) for a in rows]


@router.get("/v2/alerts/{identifier}", summary="Opsgenie: get alert")
async def get_alert(identifier: str, request: Request) -> Response:
    started = time.perf_counter()
    hub = hub_of(request)
    kind = request.query_params.get("identifierType", "id")
    try:
        integration = await hub.keys.require(opsgenie.genie_key(request), opsgenie.KINDS)
        if kind not in ("id", "alias", "tiny"):
            raise BadInput(["identifierType: must be id, alias or tiny"])
    except (UnknownKey, BadInput) as exc:
        return opsgenie.error_answer(exc, started, hub.runtime.settings)
    data = None if "\x00" in identifier else await run_in_threadpool(
        _get, hub.runtime, integration.id, identifier[:MAX_ALIAS], kind)
    if data is None:
        return opsgenie.answer(404, started, message="Alert does not exist")
    return opsgenie.answer(200, started, data=data)


@router.get("/v2/alerts", summary="Opsgenie: list alerts (of this integration)")
async def list_alerts(request: Request) -> Response:
    started = time.perf_counter()
    hub = hub_of(request)
    query = request.query_params
    try:
        integration = await hub.keys.require(opsgenie.genie_key(request), opsgenie.KINDS)
        offset = whole_number(query.get("offset", "0"), high=2**31 - 1)
        limit = whole_number(query.get("limit", "20"), high=LIST_LIMIT)
        if offset is None or not limit:
            raise BadInput([f"limit: must be 1..{LIST_LIMIT}; offset: a whole number"])
        if query.get("order", "desc") not in ("asc", "desc"):
            raise BadInput(["order: must be asc or desc"])
    except (UnknownKey, BadInput) as exc:
        return opsgenie.error_answer(exc, started, hub.runtime.settings)
    data = await run_in_threadpool(_list, hub.runtime, integration.id, offset, limit,
                                   query.get("order", "desc") == "desc")
    return opsgenie.answer(200, started, data=data, paging={})


@fallback.api_route("/v2/alerts/{rest:path}", include_in_schema=False,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_implemented(rest: str) -> Response:
    """Opsgenie's 404 for the parts of its API Tocsin does not have (attachments, saved
    searches, responders…), so an SDK reads it as an Opsgenie error."""
    return opsgenie.answer(404, time.perf_counter(),
                           message=f"Tocsin does not implement /v2/alerts/{rest[:100]}")
