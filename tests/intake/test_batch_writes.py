"""A batch of inbox rows is written by one flush at its end (ids handed out up front on
SQLite, see db/ids.py), and alerts the batch already touched are looked up in the session,
not in the table that does not show them yet. It must decide exactly what the careful
path (one SAVEPOINT and flush per row) decides, and a row that only fails when the batch is
written is still isolated and retried alone."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from tests.conftest import drain_intake
from tocsin.alerts import service as alerts_service
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.db.ids import preassigned_id
from tocsin.incidents.models import Incident
from tocsin.intake import processor
from tocsin.intake.models import InboxRow
from tocsin.runtime import Runtime

# One dedup key fired, repeated, resolved and fired again, among others, all in one batch.
SCRIPT = [("trigger", "a"), ("trigger", "b"), ("trigger", "a"), ("resolve", "a"),
          ("trigger", "c"), ("trigger", "a"), ("acknowledge", "b"), ("trigger", "b"),
          ("resolve", "c"), ("resolve", "c"), ("trigger", "d"), ("trigger", "d")]


def pd(key: str, action: str, dedup_key: str) -> dict[str, Any]:
    return {"routing_key": key, "event_action": action, "dedup_key": dedup_key,
            "payload": {"summary": f"{dedup_key} failing", "source": "x",
                        "severity": "critical"}}


def _run(client: TestClient, runtime: Runtime, key: str) -> tuple[list[str], list[Any]]:
    for action, dedup_key in SCRIPT:
        assert client.post("/v2/enqueue", json=pd(key, action, dedup_key)).status_code == 202
    assert drain_intake(runtime) == len(SCRIPT)
    with runtime.sessions() as s:
        rows = s.scalars(select(InboxRow).where(InboxRow.status == "done")
                         .order_by(InboxRow.id.desc()).limit(len(SCRIPT))).all()
        outcomes = [(r.outcome or [{}])[0].get("outcome") for r in reversed(rows)]
        alerts = s.scalars(select(Alert).where(Alert.integration_id == rows[0].integration_id)
                           .order_by(Alert.dedup_key)).all()
        state: list[Any] = []
        for a in alerts:
            incident = s.get(Incident, a.incident_id) if a.incident_id else None
            log = s.scalars(select(AlertEvent.outcome).where(AlertEvent.alert_id == a.id)
                            .order_by(AlertEvent.id)).all()
            state.append((a.dedup_key, a.status, a.occurrences, a.resolve_count,
                          a.acknowledged, incident.status if incident else None, log))
    return outcomes, state


def test_batch_decides_as_row_by_row(client: TestClient, runtime: Runtime,
                                     make_integration: Callable[..., Any],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    batched = _run(client, runtime, make_integration("pagerduty")["key"])

    def fail_optimistic(*_: Any) -> None:
        raise processor._RowFailed  # every batch runs the careful way: row by row

    monkeypatch.setattr(processor, "_flush_batch", fail_optimistic)
    careful = _run(client, runtime, make_integration("pagerduty")["key"])
    assert batched == careful
    outcomes, state = batched
    assert outcomes == ["created", "created", "deduplicated", "resolved", "created",
                        "reopened", "acknowledged", "deduplicated", "resolved", "ignored",
                        "created", "deduplicated"]
    assert [a[:4] for a in state] == [("a", "firing", 3, 1), ("b", "acknowledged", 2, 0),
                                      ("c", "resolved", 1, 1), ("d", "firing", 2, 0)]


def test_row_failing_when_the_batch_is_written_is_isolated(
        client: TestClient, runtime: Runtime,
        make_integration: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    real_log = alerts_service._log

    def log(session: Any, alert: Alert, **kw: Any) -> None:
        real_log(session, alert, **kw)
        if alert.dedup_key == "bad":  # a row naming an alert that does not exist
            session.add(AlertEvent(id=preassigned_id(session, AlertEvent), alert_id=10**9,
                                   at=kw["now"], action="trigger", outcome="created",
                                   note="", raw=None))

    monkeypatch.setattr(alerts_service, "_log", log)
    key = make_integration("pagerduty")["key"]
    for dedup_key in ["x", "bad", "y"]:
        assert client.post("/v2/enqueue", json=pd(key, "trigger", dedup_key)).status_code == 202
    # Each batch fails when written, then runs row by row: the others commit, the bad row
    # is retried alone until it is marked failed.
    drain_intake(runtime)
    with runtime.sessions() as s:
        rows = s.scalars(select(InboxRow).order_by(InboxRow.id)).all()
        assert [r.status for r in rows] == ["done", "failed", "done"]
        assert rows[1].attempts == runtime.settings.intake_max_attempts
        assert '"bad"' in rows[1].body
        assert "foreign key" in (rows[1].error or "").lower()
        assert sorted(s.scalars(select(Alert.dedup_key))) == ["x", "y"]


def test_a_batch_of_new_alerts_inserts_each_table_in_one_statement(
        client: TestClient, runtime: Runtime, make_integration: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No ORM query on the batch's path: each would write the rows queued so far first
    (autoflush), and the batch's INSERTs would go out in rounds."""
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("ids are handed out up front on SQLite only")
    key = make_integration("pagerduty")["key"]
    assert client.post("/v2/enqueue", json=pd(key, "trigger", "warm")).status_code == 202
    drain_intake(runtime)  # configuration loaded and cached before the batch
    monkeypatch.setitem(processor.BATCH_SECONDS, "sqlite", 60.0)  # one batch, however slow
    for i in range(6):
        assert client.post("/v2/enqueue", json=pd(key, "trigger", f"new{i}")).status_code == 202
    transactions: list[Counter[str]] = [Counter()]

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found = re.match(r"\s*INSERT INTO (\w+)", statement)
        if found:
            transactions[-1][found.group(1)] += 1

    def commit(_conn: Any) -> None:
        transactions.append(Counter())

    event.listen(runtime.engine, "before_cursor_execute", count)
    event.listen(runtime.engine, "commit", commit)
    try:
        assert drain_intake(runtime) == 6
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
        event.remove(runtime.engine, "commit", commit)
    batches = [t for t in transactions if t["alerts"]]
    assert len(batches) == 1
    assert [{table: n for table, n in t.items() if n > 1} for t in batches] == \
        [{} for _ in batches]
