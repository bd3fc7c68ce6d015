"""Timeline entries are written at the next flush, in one statement with the others waiting:
a query in the same transaction sees them, and entries added inside a SAVEPOINT that rolls
back are never written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tocsin.incidents import lifecycle as lc
from tocsin.incidents.models import Incident, IncidentEvent
from tocsin.incidents.service import append_event
from tocsin.runtime import Runtime

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _bodies(runtime: Runtime, incident_id: int) -> list[str]:
    with runtime.sessions() as s:
        return list(s.scalars(select(IncidentEvent.body).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "note")
            .order_by(IncidentEvent.id)))


def test_entries_seen_in_the_transaction_and_dropped_with_a_rolled_back_savepoint(
        runtime: Runtime, make_incident: Callable[..., dict[str, Any]]) -> None:
    incident_id = make_incident()["id"]
    with runtime.sessions() as s, s.begin():
        incident = s.get(Incident, incident_id)
        assert incident is not None
        append_event(s, incident, kind=lc.EventKind.NOTE, now=NOW, actor=None, body="first")
        append_event(s, incident, kind=lc.EventKind.NOTE, now=NOW, actor=None, body="second")
        assert list(s.scalars(select(IncidentEvent.body).where(
            IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "note"))) \
            == ["first", "second"]
        with pytest.raises(RuntimeError), s.begin_nested():
            append_event(s, incident, kind=lc.EventKind.NOTE, now=NOW, actor=None,
                         body="rolled back")
            raise RuntimeError("this row's work fails")
        append_event(s, incident, kind=lc.EventKind.NOTE, now=NOW, actor=None, body="third")
    assert _bodies(runtime, incident_id) == ["first", "second", "third"]


def test_a_rolled_back_transaction_writes_none(
        runtime: Runtime, make_incident: Callable[..., dict[str, Any]]) -> None:
    incident_id = make_incident()["id"]
    with runtime.sessions() as s:
        with s.begin():
            incident = s.get(Incident, incident_id)
            assert incident is not None
            append_event(s, incident, kind=lc.EventKind.NOTE, now=NOW, actor=None,
                         body="never")
            s.rollback()
        with s.begin():  # the same session, a new transaction: nothing left waiting
            incident = s.get(Incident, incident_id)
            assert incident is not None
            append_event(s, incident, kind=lc.EventKind.NOTE, now=NOW, actor=None,
                         body="kept")
    assert _bodies(runtime, incident_id) == ["kept"]
