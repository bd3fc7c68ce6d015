"""Ids handed out before INSERT: only in a transaction that asked (SQLite), the table's
largest plus one and counting, read again after a rolled-back SAVEPOINT, forgotten at the
end of the transaction; the rows then insert with those ids in one flush, whatever order
the ORM chooses (foreign keys are checked at COMMIT)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tocsin.catalog.models import Service
from tocsin.db.ids import batch_writes, preassigned_id
from tocsin.incidents.models import Incident, IncidentService
from tocsin.runtime import Runtime

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _incident(incident_id: int | None) -> Incident:
    return Incident(id=incident_id, title="t", description="", status="triggered",
                    severity="SEV3", impact="low", urgency="low", detection_source="monitor",
                    restricted=False, detected_at=NOW, last_update_at=NOW, reopen_count=0,
                    created_at=NOW, updated_at=NOW)


def _service(runtime: Runtime) -> int:
    with runtime.sessions() as s, s.begin():
        row = Service(name="api", created_at=NOW)
        s.add(row)
        s.flush()
        return row.id


def test_ids_only_where_asked(runtime: Runtime) -> None:
    sqlite = runtime.engine.dialect.name == "sqlite"
    with runtime.sessions() as s, s.begin():
        assert preassigned_id(s, Incident) is None  # not asked: the database chooses
        assert batch_writes(s) is sqlite
        first = preassigned_id(s, Incident)
        if not sqlite:
            assert first is None  # PostgreSQL: other transactions insert concurrently
            return
        assert first is not None
        assert preassigned_id(s, Incident) == first + 1
    with runtime.sessions() as s, s.begin():
        assert preassigned_id(s, Incident) is None  # the next transaction did not ask


def test_rows_insert_with_their_ids_in_any_order(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("ids are handed out up front on SQLite only")
    service_id = _service(runtime)
    with runtime.sessions() as s, s.begin():
        s.add(_incident(None))  # an existing row: the counter starts after it
    with runtime.sessions() as s, s.begin():
        existing = s.scalars(select(Incident.id)).one()
        batch_writes(s, [Incident, Service])  # next ids read in one query
        first = preassigned_id(s, Incident)
        assert first == existing + 1
        # The child is added first and nothing declares the relationship to the ORM:
        # it may be inserted first, which the deferred foreign key check allows.
        s.add(IncidentService(incident_id=first, service_id=service_id))
        s.add(_incident(first))
        s.flush()
        with pytest.raises(IntegrityError), s.begin_nested():
            s.add(_incident(preassigned_id(s, Incident)))
            s.add(_incident(first))  # taken: this savepoint fails
        # After the rolled-back savepoint the counter is read from the table again.
        assert preassigned_id(s, Incident) == first + 1
    with runtime.sessions() as s:
        ids = s.scalars(select(Incident.id).order_by(Incident.id)).all()
        assert ids == [first - 1, first]
        assert s.scalars(select(IncidentService.incident_id)).all() == [first]


def test_a_dangling_row_still_fails_at_commit(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("foreign keys are deferred on SQLite only")
    service_id = _service(runtime)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), runtime.sessions() as s, s.begin():
        batch_writes(s)
        s.add(IncidentService(incident_id=10**6, service_id=service_id))
    with runtime.sessions() as s:
        assert s.scalars(select(IncidentService)).all() == []
