"""The rules of db/checks.py fail loudly when broken (the suite runs with them on): a row
without its pre-assigned id in a batch, an Alert changed outside alerts/service.py,
configuration written past the Session, an ORM object in the configuration cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.alerts.models import Alert
from tocsin.catalog.models import Service
from tocsin.db import checks, rows
from tocsin.db.checks import RuleBroken
from tocsin.db.config_cache import config_cached
from tocsin.db.ids import batch_writes
from tocsin.db.queued import queue_row
from tocsin.engine.models import Timer
from tocsin.runtime import Runtime

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TIMER = {"kind": "k", "payload": {}, "due_at": NOW, "generation": 1, "status": "pending",
         "attempts": 0, "created_at": NOW}


@pytest.fixture(autouse=True)
def _broken_on_purpose() -> Iterator[None]:
    yield
    checks.broken.clear()  # these tests break the rules on purpose


def test_checks_are_on_in_the_suite() -> None:
    assert checks.active


def _batch(session: Session) -> None:
    if not batch_writes(session, [Timer]):
        pytest.skip("ids are handed out up front on SQLite only")


def test_a_batch_row_inserted_without_its_id_is_refused(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        _batch(s)
        rows.add(s, Timer, key="through rows", **TIMER)  # takes its id
        s.add(Timer(key="past rows", **TIMER))  # the database would choose its id
        with pytest.raises(RuleBroken, match="batch ids: a row of timers"):
            s.flush()
        s.rollback()
    with runtime.sessions() as s, s.begin():
        _batch(s)
        with pytest.raises(RuleBroken, match="batch ids"):
            queue_row(s, cast(Table, Timer.__table__), {"key": "queued", **TIMER})


def _run_as(module: str, source: str, **names: Any) -> None:
    """Run `source` as if it were code of the tocsin module at `module`."""
    exec(compile(source, f"/src/tocsin/{module}", "exec"), dict(names))


def _alert(session: Session) -> Alert:
    alert = rows.add_object(
        session, Alert, scope="s:1", dedup_key="k", status="firing", summary="", source="",
        severity="SEV4", occurrences=1, resolve_count=0, acknowledged=False,
        first_seen_at=NOW, last_seen_at=NOW, labels={}, details={}, links=[], tags=[])
    session.flush()
    return alert


def test_an_alert_changed_outside_alerts_service_is_refused(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        alert = _alert(s)
        _run_as("alerts/service.py", "alert.summary = 'by the alerts service'", alert=alert)
        alert.summary = "by a test"  # tests may arrange any state
        with pytest.raises(RuleBroken, match="owned models: Alert summary set outside"):
            _run_as("incidents/service.py", "alert.summary = 'elsewhere'", alert=alert)
        with pytest.raises(RuleBroken,
                           match="owned models: Alert rows written by a statement outside"):
            _run_as("incidents/service.py",
                    "session.execute(update(Alert).values(summary='bulk'))",
                    session=s, update=__import__("sqlalchemy").update, Alert=Alert)
        with pytest.raises(RuleBroken, match="owned models: Alert created outside"):
            _run_as("checks/service.py", "Alert(scope='s:2', dedup_key='k2')", Alert=Alert)
        s.rollback()


def test_configuration_written_past_the_session_is_refused(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():  # through the Session: counted
        s.execute(insert(Service).values(name="through the session", created_at=NOW))
    s = runtime.sessions()
    try:
        s.begin()
        s.connection().execute(insert(Service).values(name="past it", created_at=NOW))
        with pytest.raises(RuleBroken, match="configuration: services written"):
            s.commit()
        s.rollback()
    finally:
        s.close()
    with runtime.sessions() as s:
        assert s.scalars(select(Service.name)).all() == ["through the session"]


def test_an_orm_object_in_the_configuration_cache_is_refused(runtime: Runtime,
                                                             admin: Any) -> None:
    with runtime.sessions() as s, s.begin():
        assert config_cached(s, ("plain", 1), lambda: {"names": ("a", 1)})
        with pytest.raises(RuleBroken, match="cached configuration: the value for"):
            config_cached(s, ("orm", 1), lambda: [s.get(User, admin.id)])


def test_a_row_added_past_rows_after_created_here_relied_on_none_is_refused(
        runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        assert not rows.created_here(s, Timer, key="t")  # a caller skips its look-up now
        rows.add(s, Timer, key="t", **TIMER)
        rows.add_object(s, Timer, key="u", **TIMER)
        s.flush()
        s.add(Timer(key="v", **TIMER))
        with pytest.raises(RuleBroken, match="created here: a row of timers"):
            s.flush()
        s.rollback()
    with runtime.sessions() as s, s.begin():
        assert not rows.created_here(s, Timer, key="t")
        with pytest.raises(RuleBroken, match="created here"):
            queue_row(s, cast(Table, Timer.__table__), {"key": "w", **TIMER})
    with runtime.sessions() as s, s.begin():  # a transaction that did not ask
        s.add(Timer(key="x", **TIMER))
