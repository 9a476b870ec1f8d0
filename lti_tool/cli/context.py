"""What every `plc-bridge` command starts from: the settings (refused with a message naming what to fix) and the
database (refused unless its schema is at the latest migration)."""

from __future__ import annotations

from typing import Any

import click

from lti_tool.settings import Settings, SettingsError, load_settings
from lti_tool.web.observability import configure_logging
from models.database import Database
from models.migrate import current_revision, head_revision
from xapi import outbox_commit


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings, or a CLI error naming what is wrong; logging is configured from them."""
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        raise click.ClickException(f"unsafe or invalid settings: {exc}") from exc
    configure_logging(settings.log_level, settings.log_format)
    return settings


def open_database(settings: Settings, migrated: bool = True) -> Database:
    """The database; with `migrated`, refuse to go on unless the schema is at the latest migration."""
    database = Database(settings.database_url)
    outbox_commit.hook(database.engine)  # before the worker's threads run the engine's events
    if migrated:
        current, head = current_revision(database.engine), head_revision()
        if current != head:
            raise click.ClickException(
                f"the database schema is at {current or 'nothing'}, not {head}: run `plc-bridge db upgrade` first"
            )
    return database
