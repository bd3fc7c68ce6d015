"""The shared configuration cache: loaded once, reloaded after any change to configuration,
whoever makes it — this process, another engine (as another process would), a bulk
statement — and never poisoned by a transaction's uncommitted edits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.catalog.models import Service
from tocsin.db.config_cache import config_cached
from tocsin.db.session import make_engine, make_sessionmaker
from tocsin.runtime import Runtime

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _service(runtime: Runtime, name: str = "api") -> int:
    with runtime.sessions() as s, s.begin():
        row = Service(name=name, created_at=NOW)
        s.add(row)
        s.flush()
        return row.id


class Loader:
    """Counts loads; reads the service's tier so a stale value would show."""

    def __init__(self, service_id: int) -> None:
        self.service_id = service_id
        self.loads = 0

    def __call__(self, session: Session) -> Callable[[], str]:
        def load() -> str:
            self.loads += 1
            return session.scalars(select(Service.tier).where(
                Service.id == self.service_id)).one()
        return load


def _read(runtime: Runtime, loader: Loader) -> str:
    with runtime.sessions() as s, s.begin():
        return config_cached(s, ("tier", loader.service_id), loader(s))


def test_loaded_once_across_transactions_until_an_orm_edit(runtime: Runtime) -> None:
    sid = _service(runtime)
    loader = Loader(sid)
    assert [_read(runtime, loader) for _ in range(5)] == ["medium"] * 5
    assert loader.loads == 1
    with runtime.sessions() as s, s.begin():
        row = s.get(Service, sid)
        assert row is not None
        row.tier = "critical"
    assert _read(runtime, loader) == "critical"
    assert _read(runtime, loader) == "critical"
    assert loader.loads == 2


def test_bulk_statement_and_another_engine_are_seen(runtime: Runtime) -> None:
    sid = _service(runtime)
    loader = Loader(sid)
    assert _read(runtime, loader) == "medium"
    with runtime.sessions() as s, s.begin():
        s.execute(update(Service).where(Service.id == sid).values(tier="high"))
    assert _read(runtime, loader) == "high"
    # Another engine on the same database, as another `tocsin` process would have.
    other = make_engine(str(runtime.engine.url.render_as_string(hide_password=False)))
    try:
        with make_sessionmaker(other)() as s, s.begin():
            row = s.get(Service, sid)
            assert row is not None
            row.tier = "low"
    finally:
        other.dispose()
    assert _read(runtime, loader) == "low"
    assert loader.loads == 3


def test_unrelated_writes_keep_the_cache(
        runtime: Runtime, make_incident: Callable[..., dict[str, Any]]) -> None:
    sid = _service(runtime)
    loader = Loader(sid)
    _read(runtime, loader)
    make_incident()  # incident, timeline, escalation rows: not configuration
    _read(runtime, loader)
    assert loader.loads == 1


def test_own_uncommitted_edit_is_seen_and_not_shared(runtime: Runtime) -> None:
    sid = _service(runtime)
    loader = Loader(sid)
    assert _read(runtime, loader) == "medium"
    with runtime.sessions() as s:
        s.begin()
        row = s.get(Service, sid)
        assert row is not None
        row.tier = "critical"
        s.flush()
        assert config_cached(s, ("tier", sid), loader(s)) == "critical"
        s.rollback()
    # The rolled-back edit must not have reached the shared cache.
    assert _read(runtime, loader) == "medium"
