"""On PostgreSQL, the outbox's rows go to the database with the transaction's COMMIT, in its round trip.

`outbox.record` is on the path of every launch and PLC event, and a round trip of its own would make each wait for the
database once more (longer where the database is on another host). So its rows wait here, per connection, and go as
the transaction ends: their INSERTs and the COMMIT sent together in psycopg's pipeline, one round trip (the server
runs them in order and skips the rest after the first that fails, so a refused INSERT leaves nothing committed and
the commit raises as any failed commit does). They are written earlier where waiting would change what the
transaction sees or keeps:
- before a savepoint begins or is released (a record written inside a savepoint is then undone with it, if it is);
- before any statement that names an outbox table (a read in the same transaction sees its own records);
- at once, on a connection in autocommit or in a two-phase transaction (no COMMIT of this kind comes).
A rollback drops them with the rest of the transaction; so does a rollback to a savepoint, for what was recorded
since the savepoint began or an inner one ended (everything before that was sent then). A commit whose records the
server refuses is rolled back before the error is raised, as a refused COMMIT would end the transaction.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, TwoPhaseTransaction
from sqlalchemy.exc import DBAPIError

_PENDING: weakref.WeakKeyDictionary[Connection, list[tuple[str, dict[str, Any]]]] = weakref.WeakKeyDictionary()
"""Per connection in a transaction, the INSERTs of the records it has written, with their parameters."""

_HOOKED: weakref.WeakSet[Engine] = weakref.WeakSet()
_HOOKING = threading.Lock()
OUTBOX_TABLES = "xapi_"  # every outbox table's name starts with it (models/outbox.py)


def write_with_commit(connection: Connection, sql: str, params: dict[str, Any]) -> None:
    """Keep one INSERT and its parameters until the transaction ends (or send it now, where no COMMIT comes)."""
    if _driver(connection).autocommit or isinstance(connection.get_transaction(), TwoPhaseTransaction):
        connection.exec_driver_sql(sql, params)
        return
    hook(connection.engine)
    _PENDING.setdefault(connection, []).append((sql, params))


def _driver(connection: Connection) -> psycopg.Connection[Any]:
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def pending(connection: Connection) -> int:
    """How many records of this connection's transaction wait for its end."""
    return len(_PENDING.get(connection, ()))


def _write_now(connection: Connection, *_args: Any) -> None:
    waiting = _PENDING.pop(connection, None)
    if waiting:
        _send(connection, waiting, commit=False)


def _commit(connection: Connection) -> None:
    waiting = _PENDING.pop(connection, None)
    if waiting:
        # The COMMIT is sent here, after the INSERTs, in the same round trip; the driver's own commit that follows
        # finds the transaction ended and sends nothing.
        _send(connection, waiting, commit=True)


def _send(connection: Connection, waiting: list[tuple[str, dict[str, Any]]], commit: bool) -> None:
    """The INSERTs (and the COMMIT) in one round trip: psycopg's pipeline sends them together, each as the prepared
    statement it uses for that text, and reads their answers at its end; the first that fails stops the rest."""
    raw = _driver(connection)
    sql = ""
    try:
        with raw.pipeline(), raw.cursor() as cursor:
            for sql, params in waiting:
                cursor.execute(sql, params)
            if commit:
                cursor.execute("COMMIT")
    except psycopg.Error as failed:
        if commit:
            # SQLAlchemy takes a commit whose listener raised as ended; so it is, rolled back, whoever closes it next.
            with contextlib.suppress(psycopg.Error):
                raw.rollback()
        raise DBAPIError.instance(sql, None, failed, psycopg.Error) from failed


def _drop(connection: Connection, *_args: Any) -> None:
    _PENDING.pop(connection, None)


def _before_statement(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if connection in _PENDING and OUTBOX_TABLES in statement:
        _write_now(connection)


def hook(engine: Engine) -> None:
    """Listen to the engine's transactions, once; the app does it as it makes its engine (registering listeners while
    other threads run the engine's events is not safe), `record` for any other engine."""
    if engine in _HOOKED or engine.dialect.name != "postgresql":
        return
    with _HOOKING:
        if engine in _HOOKED:
            return
        event.listen(engine, "commit", _commit)
        event.listen(engine, "rollback", _drop)
        event.listen(engine, "rollback_savepoint", _drop)  # what is left was written inside that savepoint
        for name in ("savepoint", "release_savepoint"):
            event.listen(engine, name, _write_now)
        event.listen(engine, "before_cursor_execute", _before_statement)
        _HOOKED.add(engine)
