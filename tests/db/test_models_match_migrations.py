"""`tocsin db check`: the migration chain produces exactly the schema the models describe."""

from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tocsin.db import migrate
from tocsin.runtime import Runtime
from tocsin.tables import metadata


def test_migrated_schema_matches_models(runtime: Runtime) -> None:
    engine: Engine = runtime.engine
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert migrate.diff(engine, metadata) == []


def test_one_linear_chain() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    assert len(script.get_bases()) == 1
