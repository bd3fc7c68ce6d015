"""A read run beside the caller gets its own session on another thread, sees what is
committed, hands back its result or its error, and closes its session afterwards."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.db.test_ids import NOW
from tocsin.catalog.models import Service
from tocsin.db.beside import read_beside
from tocsin.runtime import Runtime


def test_a_read_beside_runs_in_its_own_session_on_another_thread(runtime: Runtime) -> None:
    with runtime.sessions() as s, s.begin():
        s.add(Service(name="api", created_at=NOW))
    seen: dict[str, object] = {}

    def read(session: Session) -> list[str]:
        seen["thread"] = threading.get_ident()
        seen["session"] = session
        return list(session.scalars(select(Service.name)))

    with runtime.sessions() as mine:
        assert read_beside(runtime.read_sessions, read).result(timeout=30) == ["api"]
        assert seen["session"] is not mine
    assert seen["thread"] != threading.get_ident()
    session = seen["session"]
    assert isinstance(session, Session)
    assert not session.in_transaction()  # closed after the read


def test_an_error_in_a_read_beside_is_raised_by_its_result(runtime: Runtime) -> None:
    def read(session: Session) -> None:
        raise LookupError("nothing here")

    part = read_beside(runtime.read_sessions, read)
    with pytest.raises(LookupError, match="nothing here"):
        part.result(timeout=30)
