"""PostgreSQL connections the server dropped while they waited in the pool (a restart, a proxy's idle timeout): a
connection that waited is tried before use and replaced, with every one pooled before it; one used a moment ago is
used as it is (models/database.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.database import Database
from tests.conftest import require_postgres
from tests.support.pg import throwaway_database


@pytest.fixture
def database() -> Iterator[Database]:
    require_postgres()
    with throwaway_database("plc_pool") as url:
        database = Database(url)
        database.IDLE_BEFORE_PING = 0.3
        try:
            yield database
        finally:
            database.dispose()


def backends(database: Database) -> list[int]:
    with database.transaction() as db:
        return [db.execute(text("SELECT pg_backend_pid()")).scalar_one()]


def drop_connections(database: Database) -> None:
    """What a server restart does to the pooled connections, from outside them."""
    with psycopg.connect(database.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )


def test_a_connection_dropped_while_it_waited_is_replaced_before_use(database: Database) -> None:
    first = backends(database)
    drop_connections(database)
    time.sleep(0.4)  # it waited longer than IDLE_BEFORE_PING

    assert backends(database) != first  # no error: tried, found gone, replaced


def test_a_connection_used_a_moment_ago_is_not_tried_and_its_failure_replaces_the_pool(database: Database) -> None:
    database.IDLE_BEFORE_PING = 60  # "a moment ago", however slow the machine is today
    first = backends(database)
    drop_connections(database)

    with pytest.raises(DBAPIError) as failed:  # used at once: no round trip before it, so the request fails
        backends(database)
    assert failed.value.connection_invalidated
    assert backends(database) != first  # the next one has a new connection
