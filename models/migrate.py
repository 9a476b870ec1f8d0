"""Schema migrations (Alembic), run by `plc-bridge db upgrade`, and the embedded start-up's `prepare`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from models.database import Database
from models.keys import ensure_key

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def _migrating(engine: Engine) -> Iterator[Config]:
    """A connection in one transaction for Alembic. On SQLite a batch migration copies a table into a new one and
    drops the old: with foreign keys on, that drop would cascade and delete every row that refers to it (the people
    of a course when its table changes), so they are off while migrating and on again after, outside the transaction
    (SQLite ignores the pragma inside one)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                yield config
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _migrating(engine) as config:
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Back to `revision` (tests of a migration's data step; an operator undoing a release)."""
    with _migrating(engine) as config:
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def prepare(database: Database) -> None:
    """The embedded start-up (the demo, `plc-bridge serve` without --production, the tests): bring the schema up to
    date and make the first signing key. In production `plc-bridge db upgrade` migrates, once per release."""
    upgrade(database.engine)
    with database.transaction() as db:
        ensure_key(db)
