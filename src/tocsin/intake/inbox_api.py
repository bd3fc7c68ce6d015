"""The inbox seen from the API: the triage backlog and rows that failed, and a retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from tocsin.api import pagination
from tocsin.api.deps import Admin, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.errors import NotFound
from tocsin.intake.inbox_visibility import outcome_visible, withheld_payloads
from tocsin.intake.models import InboxRow, InboxStatus
from tocsin.limits import BigId, Id

router = APIRouter(prefix="/api/v1/intake", tags=["intake: inbox"])
BODY_PREVIEW = 2000


class InboxRowOut(BaseModel):
    id: int
    received_at: datetime
    integration_id: Id
    format: str
    status: str
    attempts: int
    error: str | None
    body: str
    processed_at: datetime | None
    outcome: list[dict[str, Any]] | None


def row_out(row: InboxRow, *, withheld: bool = False) -> InboxRowOut:
    """`withheld`: the row carries an event of an alert the reader may not see
    (inbox_visibility.py): its body and error are left out."""
    return InboxRowOut(id=row.id, received_at=row.received_at,
                       integration_id=row.integration_id, format=row.format,
                       status=row.status, attempts=row.attempts,
                       error=None if withheld else row.error,
                       body="" if withheld else row.body[:BODY_PREVIEW],
                       processed_at=row.processed_at, outcome=row.outcome)


@router.get("/inbox", response_model=Page[InboxRowOut],
            summary="Inbox rows: the triage backlog (pending) or rows whose triage failed")
def list_inbox(session: SessionDep, who: Viewer,
               status: Literal["pending", "failed", "done"] = "failed",
               cursor: str | None = None, limit: Limit = 50) -> Page[InboxRowOut]:
    query = select(InboxRow).where(InboxRow.status == status)
    if status == InboxStatus.DONE.value:
        query = query.where(outcome_visible(session, who))
    after = pagination.decode(cursor)
    if after is not None:
        query = query.where(InboxRow.id > after)
    rows = session.scalars(query.order_by(InboxRow.id).limit(limit + 1)).all()
    withheld = withheld_payloads(session, who, rows)
    return pagination.page(rows, limit, lambda r: row_out(r, withheld=r.id in withheld),
                           lambda r: r.id)


@router.post("/inbox/{row_id}/retry", response_model=InboxRowOut,
             summary="Put a failed inbox row back in the triage queue")
def retry(row_id: BigId, session: SessionDep, who: Admin) -> InboxRowOut:
    row = session.get(InboxRow, row_id)
    if row is None or row.status != InboxStatus.FAILED.value:
        raise NotFound(f"no failed inbox row {row_id}")
    row.status, row.attempts = InboxStatus.PENDING.value, 0
    session.commit()
    return row_out(row)
