"""What every accept route shares: bounded body reading, the in-flight gate, integration
lookup and the accept step (an inbox row committed before the answer). The formats
(`intake/formats/`) stay pure; this module does the I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Integration
from tocsin.intake.errors import BodyTooLarge, Overloaded, UnknownKey
from tocsin.intake.formats.fields import decode_json
from tocsin.intake.keys import IntegrationRef, KeyCache
from tocsin.intake.models import InboxStatus
from tocsin.intake.writer import InboxWriter
from tocsin.runtime import Runtime


class Gate:
    """Counts intake requests in progress. The event loop is single-threaded, so a plain
    integer is enough; past the limit requests are refused before anything is stored."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def enter(self) -> None:
        if self.in_flight >= self.limit:
            raise Overloaded
        self.in_flight += 1

    def leave(self) -> None:
        self.in_flight -= 1


async def read_json(request: Request, limit: int) -> tuple[Any, str]:
    """The parsed body and its text. Stops reading past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return decode_json(body)


def find_integration(session: Session, key: str, kinds: tuple[str, ...]) -> Integration:
    if not key or len(key) > 64 or "\x00" in key:  # PostgreSQL cannot compare NUL
        raise UnknownKey
    integration = session.scalars(select(Integration).where(Integration.key == key)).first()
    if integration is None or not integration.enabled or integration.kind not in kinds:
        raise UnknownKey
    return integration


def unknown_key_status(request: Request) -> int:
    """401 for an anonymous sender; 403 when it authenticated as a user, since an API key
    does not open an integration's URL."""
    return 403 if request.headers.get("authorization") else 401


class Hub:
    """One process's intake: the in-flight gate, the key cache and the inbox writer."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.gate = Gate(runtime.settings.intake_max_in_flight)
        self.keys = KeyCache(runtime)
        self.writer = InboxWriter(runtime)

    async def accept(self, row: dict[str, Any]) -> None:
        """Store one inbox row; returns once it is committed. Raises Overloaded when the
        process already holds its limit of requests in progress (nothing is stored)."""
        self.gate.enter()
        try:
            await self.writer.submit(row)
        finally:
            self.gate.leave()


def hub_of(request: Request) -> Hub:
    state = request.app.state
    hub: Hub | None = getattr(state, "intake", None)
    if hub is None:
        hub = Hub(state.runtime)
        state.intake = hub
    return hub


def inbox_row(integration: IntegrationRef, fmt: str, body: str, *, received_at: datetime,
              meta: dict[str, Any] | None = None, request_id: str | None = None
              ) -> dict[str, Any]:
    return {"received_at": received_at, "integration_id": integration.id, "format": fmt,
            "body": body, "meta": meta or {}, "request_id": request_id,
            "status": InboxStatus.PENDING.value, "attempts": 0}
