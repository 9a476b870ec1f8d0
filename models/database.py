"""Engine and session factory for SQLite (WAL, the embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, create_engine, event, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Database:
    """One engine per process; `transaction()` is the unit of work (begin once, commit at the end)."""

    IDLE_BEFORE_PING = 1.0  # seconds a pooled PostgreSQL connection waits before it is tried again before use

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            # The connection used last is used next (LIFO): a SQLite connection's page cache is dropped when another
            # connection has written since it last read, and the last one used most often wrote last itself (a
            # launch and the page after it follow each other). bench/launch.py: ~0.1 ms of CPU and a few % of rate.
            self.engine: Engine = create_engine(url, connect_args={"timeout": 10}, pool_use_lifo=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=10)
            event.listen(self.engine, "checkout", self._ping_when_idle)
            event.listen(self.engine, "checkin", _note_idle)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _ping_when_idle(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """A pooled PostgreSQL connection that has waited more than IDLE_BEFORE_PING is tried before use, SQLAlchemy's
        pre-ping for the connections that may have gone (the server restarted, a proxy dropped them): if it has, every
        connection pooled before now is replaced, and the request gets a new one. One used a moment ago is used as it
        is: under load that is nearly every transaction, and a ping is a round trip (~70 µs of this process's CPU and
        some of the server's) before each. A connection that breaks in use still fails its request, and the pool is
        replaced then (a server that restarts takes longer than IDLE_BEFORE_PING)."""
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= self.IDLE_BEFORE_PING:
            return
        dialect = self.engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError() from error
            raise

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def one_of(db: Session, column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """`column` IN `ids`; on PostgreSQL `= ANY` of one array parameter: the same statement text for any number of ids,
    so SQLAlchemy and psycopg do not write out and parse a parameter per id on every run (the national dashboard's
    245 districts, in each of its statements, cost more than reading them)."""
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(literal(sorted(ids), postgresql.ARRAY(Integer())))  # type: ignore[no-any-return]
    return column.in_(sorted(ids))  # type: ignore[no-any-return]


def read_now(db: Session, statement: Any, params: dict[str, Any]) -> Any:
    """The first row of a read that makes no ORM objects (an id, a count, an EXISTS), run as Core on the session's
    connection: the ORM's execution path costs more than such a statement on SQLite. What the session holds is flushed
    first, as the ORM's autoflush would."""
    db.flush()
    return db.connection().execute(statement, params).first()


def get_or_create(db: Session, model: type[Any], keys: dict[str, Any], **defaults: Any) -> Any:
    """The row with these key columns, inserted when missing; safe when two requests race on the same key (the loser's
    savepoint rolls back and it reads the winner's row)."""
    query = select(model).filter_by(**keys)
    row = db.scalars(query).first()
    if row is not None:
        return row
    try:
        with db.begin_nested():
            row = model(**keys, **defaults)
            db.add(row)
            db.flush()
        return row
    except IntegrityError:
        return db.scalars(query).one()
