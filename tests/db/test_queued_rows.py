"""Rows queued as plain rows (db/queued.py) behave like pending ORM objects: written at
COMMIT even when nothing else made the session dirty, found by the queries that follow in
the transaction, dropped with a rolled-back SAVEPOINT or transaction, and rows queued before
a SAVEPOINT survive its rollback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from tests.conftest import Account
from tocsin.alerts.models import IncidentAlert
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.service import ingest_event
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.db.queued import queue_row
from tocsin.engine import timers
from tocsin.engine.models import Timer
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.notify import service as notify
from tocsin.notify.models import ContactMethod, Message
from tocsin.runtime import Runtime

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TIMERS = cast(Table, Timer.__table__)


def _timer(key: str) -> dict[str, Any]:
    return {"kind": "k", "key": key, "payload": {}, "due_at": NOW, "generation": 1,
            "status": "pending", "attempts": 0, "created_at": NOW}


def _keys(runtime: Runtime) -> list[str | None]:
    with runtime.sessions() as s:
        return list(s.scalars(select(Timer.key).order_by(Timer.id)))


def test_written_at_commit_without_a_flush(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        queue_row(s, TIMERS, _timer("a"))
        assert not s.new and not s.dirty  # a clean session: COMMIT does not flush
    assert _keys(runtime) == ["a"]


def test_found_by_the_next_query_of_a_clean_session(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        queue_row(s, TIMERS, _timer("a"))
        assert s.scalars(select(Timer.key)).all() == ["a"]
        with s.no_autoflush:  # as for pending ORM objects: not without autoflush
            queue_row(s, TIMERS, _timer("b"))
            assert s.scalars(select(Timer.key)).all() == ["a"]
    assert _keys(runtime) == ["a", "b"]


def test_dropped_with_a_rolled_back_savepoint_not_those_before_it(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        queue_row(s, TIMERS, _timer("before"))  # clean session: the SAVEPOINT writes it
        with pytest.raises(RuntimeError), s.begin_nested():
            queue_row(s, TIMERS, _timer("inside"))
            raise RuntimeError("this row's work fails")
        with s.begin_nested():  # released: its rows are kept
            queue_row(s, TIMERS, _timer("released"))
        queue_row(s, TIMERS, _timer("after"))
    assert _keys(runtime) == ["before", "released", "after"]


def test_dropped_with_a_rolled_back_transaction(runtime: Runtime) -> None:
    with runtime.sessions() as s:
        with s.begin():
            queue_row(s, TIMERS, _timer("never"))
            s.rollback()
        with s.begin():
            queue_row(s, TIMERS, _timer("kept"))
    assert _keys(runtime) == ["kept"]


def test_a_fresh_timer_is_found_by_schedule_and_cancel(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        timers.schedule(s, kind="k", key="x", due_at=NOW, now=NOW)
        timers.schedule(s, kind="k", key="x", due_at=NOW + timedelta(minutes=5), now=NOW)
        moved = timers.pending(s, "x")
        assert moved is not None and moved.generation == 2
        timers.schedule(s, kind="k", key="y", due_at=NOW, now=NOW)
        assert timers.cancel(s, "y")
    with runtime.sessions() as s:
        rows = s.execute(select(Timer.key, Timer.status, Timer.generation)
                         .order_by(Timer.id)).all()
    assert [tuple(r) for r in rows] == [("x", "pending", 2), (None, "cancelled", 1)]


def _method(session: Session, user_id: int) -> int:
    method = ContactMethod(user_id=user_id, kind="email", address="a@example.com",
                           verified_at=NOW, created_at=NOW)
    session.add(method)
    session.flush()
    return method.id


def test_a_new_page_is_found_by_dedup_and_cancel(runtime: Runtime,
                                                  make_incident: Callable[..., dict[str, Any]],
                                                  responder: Account) -> None:
    incident_id = make_incident()["id"]
    with runtime.sessions() as s, s.begin():
        method_id = _method(s, responder.id)
        page = {"user_id": responder.id, "method_id": method_id, "incident_id": incident_id,
                "kind": "page", "due_at": NOW, "payload": {}, "now": NOW}
        assert notify._enqueue(s, key="k1", **page)
        assert not notify._enqueue(s, key="k1", **page)  # the queued page is found
        assert notify.cancel_pages(s, incident_id=incident_id, now=NOW) == 1
    with runtime.sessions() as s:
        assert s.scalars(select(Message.status).where(
            Message.incident_id == incident_id)).all() == ["cancelled"]


def test_links_and_services_of_a_new_incident_are_found(runtime: Runtime,
                                                        make_incident: Callable[..., dict[str, Any]]
                                                        ) -> None:
    other = make_incident()["id"]
    with runtime.sessions() as s, s.begin():
        service_id = catalog.create_service(s, data=ServiceCreate(name="api"), now=NOW).id
    with runtime.sessions() as s, s.begin():
        result = ingest_event(s, NormalizedEvent(
            action=EventAction.TRIGGER, dedup_key="k", summary="down", source="x",
            occurred_at=NOW, service_id=service_id), now=NOW, settings=runtime.settings)
        assert result.incident_id is not None
        link = s.get(IncidentAlert, (result.incident_id, result.alert_id))
        assert link is not None and link.reason == "created"
        assert incidents.service_ids_of(s, [result.incident_id]) == {
            result.incident_id: [service_id]}
        queue_row(s, cast(Table, IncidentAlert.__table__),
                  {"incident_id": other, "alert_id": result.alert_id, "attached_at": NOW,
                   "reason": "grouped"})
        assert s.get(IncidentAlert, (other, result.alert_id)) is not None
        incident = s.get(Incident, result.incident_id)
        assert incident is not None
        assert [e.kind for e in incidents.timeline(s, incident)] == [
            "created", "escalation_skipped"]
