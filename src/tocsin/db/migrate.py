"""Schema upgrades and the models-versus-migrations check, via Alembic's API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, text

MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary constant: the advisory lock that lets only one process migrate at a time.
MIGRATION_LOCK_ID = 7_455_001


class MigrationError(Exception):
    """The database cannot be opened or brought to the current schema."""


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe to call from several processes at once."""
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except Exception as exc:
        raise MigrationError(f"cannot migrate the database at {engine.url!r}: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc


def diff(engine: Engine, metadata: MetaData) -> list[Any]:
    """Differences between the models (`metadata`: tocsin/tables.py) and the migrated schema
    (empty when they agree)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                     "include_name": _modelled})
        return list(compare_metadata(ctx, metadata))


def _modelled(name: str | None, type_: str, _parents: Any) -> bool:
    """Full-text index tables (`fts_*`, and SQLite FTS5's shadow tables) are made by
    migrations in each database's own form and have no model (knownerrors/search.py)."""
    return not (type_ == "table" and name is not None and name.startswith("fts_"))


def revision(engine: Engine, message: str, metadata: MetaData) -> None:
    """Autogenerate a new migration from `metadata` (development helper)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["target_metadata"] = metadata
        command.revision(cfg, message=message, autogenerate=True)
