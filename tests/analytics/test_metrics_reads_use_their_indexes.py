"""The reads behind on-call health and alert noise: the pages read is exactly the sent page
messages of counted incidents in the window (whatever else the outbox holds), and on SQLite
both reads go through the indexes made for them (a bound parameter instead of the partial
index's literal condition would silently read the whole outbox instead)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from tests.conftest import Account
from tocsin.alerts import stats
from tocsin.analytics import queries
from tocsin.analytics.oncall_health import PageSent
from tocsin.incidents import service as incidents
from tocsin.incidents.lifecycle import Severity
from tocsin.incidents.schemas import IncidentCreate
from tocsin.notify.models import ContactMethod, Message
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime


@contextmanager
def statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        seen.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(session: Session, statement: str, parameters: Any) -> str:
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return " / ".join(str(r[-1]) for r in rows)


def test_pages_are_the_sent_pages_of_counted_incidents_in_the_window(
        runtime: Runtime, make_account: Callable[..., Account],
        make_incident: Callable[..., dict[str, Any]]) -> None:
    now = runtime.clock.now()
    people = [make_account(name="Ann"), make_account(name="Bea")]
    real = make_incident()["id"]
    with runtime.sessions() as s, s.begin():
        # A drill as drills/ declares one: marked from its creation (never later).
        drill = incidents.declare(s, actor=None, now=now, settings=runtime.settings,
                                  drill=True, data=IncidentCreate(title="Game day",
                                                                  severity=Severity.SEV2)).id
    with runtime.sessions() as s, s.begin():
        methods = {}
        for p, kind in zip(people, ("email", "sms"), strict=True):
            methods[p.user.id] = s.scalar(insert(ContactMethod).returning(ContactMethod.id),
                                          [{"user_id": p.user.id, "kind": kind,
                                            "address": f"{p.user.id}@x.io",
                                            "created_at": now}])
        rows = []
        for n, (kind, status, incident, days, person) in enumerate(itertools.product(
                ("page", "briefing"), ("sent", "failed"), (real, drill), (-1, -40),
                (*people, None))):
            at = now + timedelta(days=days, minutes=n)
            rows.append({"idempotency_key": f"t{n}", "kind": kind, "status": status,
                         "incident_id": incident,
                         "user_id": person.user.id if person else None,
                         "contact_method_id": methods[person.user.id] if person else None,
                         "due_at": at, "attempts": 1, "payload": {}, "created_at": at,
                         "sent_at": at})
        s.execute(insert(Message), rows)
    since, until = now - timedelta(days=30), now
    with runtime.sessions() as s:
        kinds = dict(s.execute(select(ContactMethod.id, ContactMethod.kind)).all())
        expected = sorted(
            (PageSent(m.user_id, m.incident_id, m.sent_at, kinds[m.contact_method_id])
             for m in s.scalars(select(Message)) if m.kind == "page" and m.status == "sent"
             and m.sent_at is not None and since <= m.sent_at < until
             and m.user_id is not None and m.incident_id != drill),
            key=lambda p: (p.at, p.user_id))
        with statements(s) as seen:
            found = queries.load_pages(s, since=since, until=until)
        assert found == expected and len(found) == 2  # Ann's and Bea's real, recent pages
        assert queries.load_pages(s, since=since, until=until,
                                  user_ids=[people[0].user.id]) == expected[:1]
        if runtime.settings.database_kind == "sqlite":
            [(sql, params)] = [x for x in seen if "FROM messages" in x[0]]
            assert "COVERING INDEX ix_messages_pages_sent" in plan(s, sql, params)


def test_the_noise_report_reads_its_indexes_alone(runtime: Runtime, admin: Account) -> None:
    """Per integration, each one's range of the period in integration order (no sort to
    group); per rule, the period's range; each alert's incident is never looked up: the
    never-acknowledged incidents come from their partial index once."""
    if runtime.settings.database_kind != "sqlite":
        return  # (PostgreSQL plans by its statistics; the bench times it there)
    with runtime.sessions() as s:  # (no ANALYZE: as Tocsin runs, with no statistics)
        with statements(s) as seen:
            stats.noise_report(s, now=runtime.clock.now(), days=30,
                               viewer=Principal(user_id=admin.user.id, role=Role.ADMIN))
        plans = [plan(s, sql, params) for sql, params in seen if "FROM alerts" in sql]
    assert len(plans) == 3
    per_integration, detection, per_rule = plans
    for p in (per_integration, detection):
        assert "COVERING INDEX ix_alerts_noise_by_integration (integration_id" in p
    assert "TEMP B-TREE FOR GROUP BY" not in per_integration
    assert "COVERING INDEX ix_alerts_noise (last_seen_at" in per_rule
    for p in plans:
        assert "SCAN incidents USING INDEX ix_incidents_unacknowledged" in p
        assert "SEARCH incidents" not in p
