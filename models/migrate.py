"""Schema migrations (Alembic), run by `plc-bridge db upgrade`, and the embedded start-up's `prepare`."""

from __future__ import annotations

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


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


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
