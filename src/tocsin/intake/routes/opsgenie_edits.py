"""Opsgenie Alert API routes for the actions senders take on an alert after creating it —
notes, tags, priority, assign, escalate, snooze.

Accepted into the inbox like acknowledge and close (202, then applied in arrival order, so
an action right after its create finds the alert), and answered in request status. Their
parameters are read by `intake/formats/opsgenie.py`; `intake/opsgenie_triage.py` applies
them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tocsin.intake.formats.opsgenie import (
    FORMAT_EDIT,
    add_tags_fields,
    assign_fields,
    escalate_fields,
    note_fields,
    priority_fields,
    remove_tags_fields,
    snooze_fields,
)
from tocsin.intake.routes.opsgenie import act

router = APIRouter(tags=["intake: Opsgenie"])


@router.post("/v2/alerts/{identifier}/notes", status_code=202, summary="Opsgenie: add note")
async def add_note(identifier: str, request: Request) -> Response:
    return await act(request, identifier, "note", fmt=FORMAT_EDIT, fields=note_fields)


@router.post("/v2/alerts/{identifier}/tags", status_code=202, summary="Opsgenie: add tags")
async def add_tags(identifier: str, request: Request) -> Response:
    return await act(request, identifier, "add_tags", fmt=FORMAT_EDIT, fields=add_tags_fields)


@router.delete("/v2/alerts/{identifier}/tags", status_code=202,
               summary="Opsgenie: remove tags")
async def remove_tags(identifier: str, request: Request) -> Response:
    return await act(request, identifier, "remove_tags", fmt=FORMAT_EDIT,
                     fields=remove_tags_fields)


@router.put("/v2/alerts/{identifier}/priority", status_code=202,
            summary="Opsgenie: update priority")
async def update_priority(identifier: str, request: Request) -> Response:
    return await act(request, identifier, "priority", fmt=FORMAT_EDIT, fields=priority_fields)


@router.post("/v2/alerts/{identifier}/assign", status_code=202,
             summary="Opsgenie: assign (recorded in the alert's log)")
async def assign(identifier: str, request: Request) -> Response:
    return await act(request, identifier, "assign", fmt=FORMAT_EDIT, fields=assign_fields)


@router.post("/v2/alerts/{identifier}/escalate", status_code=202,
             summary="Opsgenie: escalate (recorded in the alert's log)")
async def escalate(identifier: str, request: Request) -> Response:
    return await act(request, identifier, "escalate", fmt=FORMAT_EDIT, fields=escalate_fields)


@router.post("/v2/alerts/{identifier}/snooze", status_code=202,
             summary="Opsgenie: snooze (recorded in the alert's log)")
async def snooze(identifier: str, request: Request) -> Response:
    return await act(request, identifier, "snooze", fmt=FORMAT_EDIT, fields=snooze_fields)
