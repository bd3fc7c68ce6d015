"""Triage fixtures: services and an `ingest` helper that runs the real pipeline on the
test database, the way detection calls it (no integration, a service id)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.service import IngestResult, ingest_event
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.runtime import Runtime


@pytest.fixture
def new_service(runtime: Runtime) -> Callable[..., int]:
    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> int:
        fields.setdefault("name", f"svc-{next(counter)}")
        with runtime.sessions() as session, session.begin():
            return catalog.create_service(session, data=ServiceCreate(**fields),
                                          now=runtime.clock.now()).id

    return make


@pytest.fixture
def ingest(runtime: Runtime) -> Callable[..., IngestResult]:
    def send(service_id: int, key: str, action: str = "trigger", **fields: Any) -> IngestResult:
        event = NormalizedEvent(action=EventAction(action), dedup_key=key,
                                summary=fields.pop("summary", f"{key} failing"),
                                source=fields.pop("source", "check:1"),
                                occurred_at=runtime.clock.now(), service_id=service_id,
                                **fields)
        with runtime.sessions() as session, session.begin():
            return ingest_event(session, event, now=runtime.clock.now(),
                                settings=runtime.settings)

    return send
