"""Schema migrations (Alembic), run by `plc-bridge db upgrade`, and the embedded start-up's `prepare`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import dashboard_rollup as rollup
from models.dashboard_rollup import DistrictStats
from models.dashboard_stats import ProgramStats, refresh_all
from models.database import Database
from models.district import ProgramPlacement
from models.keys import ensure_key
from models.team_figures import TeamStats
from models.teams import Team

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
    if revision == "head":
        _fill_team_rows(engine)
        _fill_district_rows(engine)


def _fill_team_rows(engine: Engine) -> None:
    """Migration 0030 added each team's share of the dashboard figures (models/team_figures.py), empty. A change in a
    placed team without its row falls back to recomputing its program whole, locking the program after the team:
    the reverse of a program edit's order, a deadlock on PostgreSQL. So the figures are rebuilt once, here, while
    some placed team has no row (one indexed read otherwise)."""
    with Session(engine) as db, db.begin():
        missing = db.scalar(
            select(Team.id)
            .join(ProgramPlacement, ProgramPlacement.program_id == Team.program_id)
            .outerjoin(TeamStats, TeamStats.team_id == Team.id)
            .where(TeamStats.team_id.is_(None))
            .limit(1)
        )
        if missing is not None:
            refresh_all(db)


def _fill_district_rows(engine: Engine) -> None:
    """Migration 0032 added the figures per district (models/dashboard_rollup.py), empty: each district with program
    rows and none of its own is added up once, here (one indexed read otherwise)."""
    with Session(engine) as db, db.begin():
        have = select(DistrictStats.district_id).where(DistrictStats.district_id == ProgramStats.district_id)
        missing = db.scalars(select(ProgramStats.district_id).where(~have.exists()).distinct()).all()
        for district_id in sorted(missing):
            rollup.rebuild(db, district_id)


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
