"""Bulk statements on audited tables are recorded too, an ORM bulk insert included (its SQL
cannot be printed outside its execution: the entry names and counts it)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from tocsin.accounts.models import User
from tocsin.audit.models import AuditEntry
from tocsin.runtime import Runtime


def test_an_orm_bulk_insert_and_a_bulk_update_are_audited(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    with runtime.sessions() as s, s.begin():
        s.execute(insert(User), [
            {"email": f"bulk{i}@example.com", "name": f"Bulk {i}", "role": "responder",
             "time_zone": "UTC", "created_at": now} for i in range(3)])
        s.execute(update(User).where(User.email == "bulk0@example.com").values(name="Zero"))

    with runtime.read_sessions() as s:
        assert s.scalar(select(User.name).where(User.email == "bulk0@example.com")) == "Zero"
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.target == "users")
                                 .order_by(AuditEntry.id)))
    kinds = [(e.action, e.detail) for e in entries]
    assert ("bulk_insert", "bulk insert into users (3 rows)") in kinds \
        or any(a == "bulk_insert" and d.endswith("(3 rows)") for a, d in kinds), kinds
    (changed,) = [e for e in entries if e.action == "bulk_update"]
    assert changed.detail.startswith("UPDATE users SET name=")
