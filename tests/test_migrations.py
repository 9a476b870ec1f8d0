"""The migrations on both databases: up from nothing, down to nothing, up again, and no drift from the models."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from models.base import Base
from models.migrate import alembic_config, current_revision, head_revision, upgrade
from tests.conftest import PG_ADMIN_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    request.getfixturevalue("postgres_url")  # skips or fails (on CI) when PostgreSQL is away
    name = f"plc_migrations_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    request.addfinalizer(lambda: _drop(name))
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_go_up_and_down_and_match_the_models(empty_database: str) -> None:
    engine = create_engine(empty_database)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []

    with engine.begin() as connection:
        config = alembic_config(empty_database)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(engine) is None

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
