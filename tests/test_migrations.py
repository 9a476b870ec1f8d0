"""The migrations on both databases: up from nothing, down to nothing, up again, and no drift from the models."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from models.base import Base
from models.migrate import alembic_config, current_revision, head_revision, upgrade


def test_migrations_go_up_and_down_and_match_the_models(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []

    with engine.begin() as connection:
        config = alembic_config(empty_database_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(engine) is None

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_every_migration_is_additive_so_old_processes_keep_serving_during_an_upgrade() -> None:
    """`plc-bridge db upgrade` runs while the previous release still serves: a migration may add tables,
    columns and indexes, never drop or rename them (that needs a later, separate release)."""
    versions = Path(__file__).resolve().parent.parent / "models" / "migrations" / "versions"
    destructive = (
        "op.drop_table",
        "op.drop_column",
        "batch_op.drop_column",
        "op.alter_column",
        "batch_op.alter_column",
        "op.rename_table",
        "op.execute",
    )
    # A statement that only changes how values written from now on are stored: old processes read both kinds alike.
    storage_only = {"0033_outbox_payload_lz4.py": "ALTER TABLE xapi_statements ALTER COLUMN payload SET COMPRESSION"}
    for script in sorted(versions.glob("*.py")):
        source = script.read_text(encoding="utf-8")
        upgrade_source = source.split("def upgrade()", 1)[1].split("def downgrade()", 1)[0]
        if script.name in storage_only:
            assert storage_only[script.name] in source and source.count("op.execute") == 1, script.name
            upgrade_source = upgrade_source.replace("_compress_payload_with", "")
        found = [call for call in destructive if call in upgrade_source]
        assert not found, f"{script.name} upgrade() uses {found}: split it into an additive release first"
