"""Reading the audit log (admins): filtered pages, a JSON-lines export, and verification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from tocsin.api import pagination
from tocsin.api.deps import Admin, RuntimeDep, SessionDep
from tocsin.api.pagination import Limit, Page
from tocsin.audit import service
from tocsin.audit.schemas import AuditEntryOut, VerifyOut
from tocsin.limits import Id

router = APIRouter(tags=["audit"])
PREFIX = "/api/v1/audit"


@router.get(PREFIX, response_model=Page[AuditEntryOut],
            summary="Audit entries, newest first, filtered")
def list_entries(session: SessionDep, who: Admin, cursor: str | None = None,
                 limit: Limit = 100, actor_id: Id | None = None, action: str | None = None,
                 target: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> Page[AuditEntryOut]:
    rows = service.list_entries(session, after_id=pagination.decode(cursor), limit=limit + 1,
                                actor_id=actor_id, action=action, target=target,
                                since=since, until=until)
    return pagination.page(rows, limit, AuditEntryOut.model_validate, lambda r: r.id)


@router.get(PREFIX + "/export", summary="Every entry, oldest first, as JSON lines",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export(rt: RuntimeDep, who: Admin) -> StreamingResponse:
    def lines() -> Iterator[bytes]:
        with rt.read_sessions() as session:
            for entry in service.iter_all(session):
                yield (json.dumps(entry, default=str, sort_keys=True) + "\n").encode()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get(PREFIX + "/verify", response_model=VerifyOut,
            summary="Check the hash chain (tampering breaks it)")
def verify(session: SessionDep, who: Admin) -> VerifyOut:
    checked, broken = service.verify(session)
    if broken is None:
        return VerifyOut(checked=checked, ok=True)
    return VerifyOut(checked=checked, ok=False, broken_entry_id=broken.entry_id,
                     reason=broken.reason)
