"""The inbox seen from the API: the triage backlog and rows that failed, and a retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Integer,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from tocsin.accounts.principal import Principal
from tocsin.alerts.visibility import hidden_alert_ids
from tocsin.api.deps import Admin, SessionDep, Viewer
from tocsin.errors import NotFound
from tocsin.incidents import visibility
from tocsin.intake.models import InboxRow, InboxStatus

router = APIRouter(prefix="/api/v1/intake", tags=["intake: inbox"])
BODY_PREVIEW = 2000


class InboxRowOut(BaseModel):
    id: int
    received_at: datetime
    integration_id: int
    format: str
    status: str
    attempts: int
    error: str | None
    body: str
    processed_at: datetime | None
    outcome: list[dict[str, Any]] | None


def row_out(row: InboxRow) -> InboxRowOut:
    return InboxRowOut(id=row.id, received_at=row.received_at,
                       integration_id=row.integration_id, format=row.format,
                       status=row.status, attempts=row.attempts, error=row.error,
                       body=row.body[:BODY_PREVIEW], processed_at=row.processed_at,
                       outcome=row.outcome)


@router.get("/inbox", response_model=list[InboxRowOut],
            summary="Inbox rows: the triage backlog (pending) or rows whose triage failed")
def list_inbox(session: SessionDep, who: Viewer,
               status: Literal["pending", "failed", "done"] = "failed",
               limit: int = Query(50, ge=1, le=500)) -> list[InboxRowOut]:
    query = select(InboxRow).where(InboxRow.status == status)
    if status == InboxStatus.DONE.value:
        query = query.where(_outcome_visible(session, who))
    rows = session.scalars(query.order_by(InboxRow.id).limit(limit)).all()
    return [row_out(r) for r in rows]


def _outcome_visible(session: Session, viewer: Principal) -> ColumnElement[bool]:
    """Condition on processed rows: no alert or incident named in the row's outcome is
    hidden from `viewer` (incidents/visibility.py). Only processed rows name any."""
    hidden_incidents = visibility.hidden_incident_ids(viewer)
    hidden_alerts = hidden_alert_ids(viewer)
    if hidden_incidents is None or hidden_alerts is None:
        return true()
    if session.get_bind().dialect.name == "postgresql":
        # JSONB there (db/base.py JSONType); jsonb_array_elements raises on anything but an
        # array, and a row without an outcome holds a JSON null.
        outcome = case((func.jsonb_typeof(InboxRow.outcome) == "array", InboxRow.outcome),
                       else_=literal_column("'[]'::jsonb"))
        item = func.jsonb_array_elements(outcome).table_valued("value").alias("item")
        incident_id = item.c.value.op("->>")("incident_id").cast(Integer)
        alert_id = item.c.value.op("->>")("alert_id").cast(Integer)
        named = exists().select_from(item).where(
            or_(incident_id.in_(hidden_incidents), alert_id.in_(hidden_alerts)))
    else:
        item = func.json_each(InboxRow.outcome).table_valued("value").alias("item")
        named = exists().select_from(item).where(or_(
            func.json_extract(item.c.value, "$.incident_id").in_(hidden_incidents),
            func.json_extract(item.c.value, "$.alert_id").in_(hidden_alerts)))
    return ~named


@router.post("/inbox/{row_id}/retry", response_model=InboxRowOut,
             summary="Put a failed inbox row back in the triage queue")
def retry(row_id: int, session: SessionDep, who: Admin) -> InboxRowOut:
    row = session.get(InboxRow, row_id)
    if row is None or row.status != InboxStatus.FAILED.value:
        raise NotFound(f"no failed inbox row {row_id}")
    row.status, row.attempts = InboxStatus.PENDING.value, 0
    session.commit()
    return row_out(row)
