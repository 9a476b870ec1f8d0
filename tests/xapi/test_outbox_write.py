"""Writing a learning record into the outbox, on SQLite and on PostgreSQL: the statement and a pending delivery per
LRS in one INSERT sent with the transaction's COMMIT (PostgreSQL) or two in-process INSERTs (SQLite), its JSON stored
as made, its moments stored as the models store them, and nothing left when the domain change rolls back."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Text, cast, event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from models.base import utcnow
from models.database import Database
from models.outbox import Delivery, DeliveryState, OutboxStatement
from models.platform import Platform
from tests.xapi.test_delivery import a_statement
from xapi import outbox, outbox_commit


def _round_trips(db: Session) -> list[str]:
    """The SQL the session's connection sends from now on (an executemany counts once)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.connection(), "before_cursor_execute", count)
    return sent


def test_a_statement_and_its_deliveries_go_in_one_round_trip_and_its_json_is_stored_as_made(db: Session) -> None:
    platform = Platform(
        issuer="https://write.example", client_id="c", auth_login_url="x", auth_token_url="x", key_set_url="x"
    )
    db.add(platform)
    db.flush()
    statement = a_statement(1)
    at = utcnow() - timedelta(minutes=3)
    sent = _round_trips(db)

    assert outbox.record(db, statement, platform.id, ["ralph", "district"], created_at=at) == statement["id"]

    # SQLite writes the rows at once; PostgreSQL keeps them for the transaction's end, or, as here, for the first
    # statement that reads the outbox, which sees them.
    dialect = db.get_bind().dialect.name
    assert len(sent) == (0 if dialect == "postgresql" else 2), sent
    assert outbox_commit.pending(db.connection()) == (1 if dialect == "postgresql" else 0)
    stored = db.scalar(select(cast(OutboxStatement.payload, Text)).where(OutboxStatement.id == statement["id"]))
    assert stored == json.dumps(statement)  # the text the worker posts, made once
    row = db.get(OutboxStatement, statement["id"])
    assert row is not None
    assert (row.platform_id, row.verb, row.payload, row.created_at) == (
        platform.id,
        statement["verb"]["id"],
        statement,
        at,
    )
    deliveries = sorted(row.deliveries, key=lambda d: d.destination)
    assert [(d.destination, d.state, d.attempts, d.next_attempt_at, d.created_at) for d in deliveries] == [
        ("district", DeliveryState.PENDING.value, 0, at, at),
        ("ralph", DeliveryState.PENDING.value, 0, at, at),
    ]
    assert all(d.last_error is None and d.delivered_at is None for d in deliveries)


def test_its_moments_compare_with_the_ones_the_models_write(db: Session) -> None:
    """SQLite keeps moments as text: a moment written by `record` must sort and match like one the ORM wrote."""
    at = utcnow()
    before = OutboxStatement(id=a_statement(2)["id"], verb="v", payload={}, created_at=at - timedelta(microseconds=1))
    db.add(before)
    db.flush()
    written = outbox.record(db, a_statement(3), None, ["ralph"], created_at=at)
    later = a_statement(4)
    db.add(OutboxStatement(id=later["id"], verb="v", payload={}, created_at=at + timedelta(microseconds=1)))
    db.flush()

    ids = [before.id, written, later["id"]]
    in_order = select(OutboxStatement.id).where(OutboxStatement.id.in_(ids)).order_by(OutboxStatement.created_at)
    assert list(db.scalars(in_order)) == ids
    assert list(db.scalars(select(OutboxStatement.id).where(OutboxStatement.created_at == at))) == [written]
    due = select(Delivery.statement_id).where(Delivery.next_attempt_at <= at, Delivery.statement_id == written)
    assert list(db.scalars(due)) == [written]


def test_without_an_lrs_only_the_statement_is_written_and_a_rollback_takes_it_back(db: Session) -> None:
    kept, undone = a_statement(5), a_statement(6)
    outbox.record(db, kept, None, [])
    assert db.scalar(select(func.count()).select_from(Delivery).where(Delivery.statement_id == kept["id"])) == 0

    with db.begin_nested() as change:
        outbox.record(db, undone, None, ["ralph"])
        change.rollback()  # the domain change failed: its learning record goes with it

    assert db.get(OutboxStatement, kept["id"]) is not None
    assert db.scalar(select(func.count()).where(OutboxStatement.id == undone["id"])) == 0
    assert db.scalar(select(func.count()).select_from(Delivery).where(Delivery.statement_id == undone["id"])) == 0


def test_on_postgresql_a_statements_json_is_compressed_with_lz4(migrated_database: Database) -> None:
    """Migration 0033: the payload column compresses new values with lz4 where PostgreSQL has it; the JSON reads back
    as written either way."""
    statement = a_statement()
    statement["object"].setdefault("definition", {})["description"] = {
        "th": "ข้อความ " * 400
    }  # past the 2 kB where compression starts
    with migrated_database.transaction() as db:
        outbox.record(db, statement, None, ["ralph"])
    with migrated_database.transaction() as db:
        stored = db.scalar(select(cast(OutboxStatement.payload, Text)).where(OutboxStatement.id == statement["id"]))
        assert stored is not None and json.loads(stored) == statement
        if db.get_bind().dialect.name != "postgresql":
            return  # SQLite stores the text as it is
        built_in = db.execute(
            text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
        method = db.execute(
            text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'xapi_statements'::regclass AND attname = 'payload'"
            )
        ).scalar()
        compressed_with = db.execute(
            text("SELECT pg_column_compression(payload) FROM xapi_statements WHERE id = :id"), {"id": statement["id"]}
        ).scalar()
    assert (method, compressed_with) == (("l", "lz4") if built_in else ("", "pglz"))


def a_platform(db: Session, name: str) -> int:
    platform = Platform(issuer=f"https://{name}.example", client_id="c", auth_login_url="x", auth_token_url="x",
                        key_set_url="x")  # fmt: skip
    db.add(platform)
    db.flush()
    return platform.id


def test_on_postgresql_the_records_go_with_the_commit_in_its_round_trip(migrated_database: Database) -> None:
    """PostgreSQL: `record` sends nothing; the records' INSERTs go to the server in the commit's pipeline, below
    SQLAlchemy (its statement events do not see them), and are committed with the domain change."""
    first, second = a_statement(7), a_statement(8)
    sent: list[str] = []
    event.listen(
        migrated_database.engine, "before_cursor_execute", lambda _c, _k, statement, *_: sent.append(statement)
    )
    postgresql = migrated_database.engine.dialect.name == "postgresql"
    with migrated_database.transaction() as db:
        platform_id = a_platform(db, "commit")
        outbox.record(db, first, platform_id, ["ralph"])
        outbox.record(db, second, platform_id, ["ralph", "district"])
        assert outbox_commit.pending(db.connection()) == (2 if postgresql else 0)
        written = list(sent)

    with migrated_database.transaction() as db:
        assert outbox_commit.pending(db.connection()) == 0
        kept = db.scalars(select(OutboxStatement.id).where(OutboxStatement.platform_id == platform_id))
        rows = db.scalar(select(func.count()).select_from(Delivery))
        assert (sorted(kept), rows) == (sorted([first["id"], second["id"]]), 3)
    inserts = [s for s in written if "INSERT INTO xapi_" in s]
    assert len(inserts) == (0 if postgresql else 2 * 2), written  # SQLite: each record's statement and deliveries


def test_a_record_that_cannot_be_written_at_the_commit_fails_the_commit_and_keeps_nothing(
    migrated_database: Database,
) -> None:
    twice = a_statement(9)
    with migrated_database.transaction() as db:
        outbox.record(db, twice, None, ["ralph"])

    try:
        with migrated_database.transaction() as db:
            platform_id = a_platform(db, "refused")
            outbox.record(db, twice, platform_id, ["ralph"])  # the same id again: its INSERT is refused
    except IntegrityError:
        pass
    else:
        raise AssertionError("the commit of a record that could not be written succeeded")

    with migrated_database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Platform)) == 0  # the domain change went with it
        assert db.scalar(select(func.count()).select_from(OutboxStatement)) == 1
        # The pooled connection carries nothing over: this transaction's record is the only one it writes.
        outbox.record(db, a_statement(10), None, ["ralph"])
    with migrated_database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(OutboxStatement)) == 2


def test_a_rolled_back_transactions_records_are_not_written_later(migrated_database: Database) -> None:
    undone, later = a_statement(11), a_statement(12)
    try:
        with migrated_database.transaction() as db:
            outbox.record(db, undone, a_platform(db, "undone"), ["ralph"])
            assert outbox_commit.pending(db.connection()) == (1 if db.get_bind().dialect.name == "postgresql" else 0)
            raise RuntimeError("the domain change failed after its record was written")
    except RuntimeError:
        pass
    with migrated_database.transaction() as db:
        outbox.record(db, later, None, ["ralph"])
    with migrated_database.transaction() as db:
        assert list(db.scalars(select(OutboxStatement.id))) == [later["id"]]
        assert db.scalar(select(func.count()).select_from(Delivery)) == 1


def test_a_savepoint_rolled_back_after_a_failure_drops_its_records_and_the_transaction_goes_on(
    migrated_database: Database,
) -> None:
    """A record written inside a savepoint whose work failed goes with the savepoint; one written before it stays, and
    the transaction commits it."""
    kept, undone = a_statement(13), a_statement(14)
    with migrated_database.transaction() as db:
        outbox.record(db, kept, None, ["ralph"])
        try:
            with db.begin_nested():
                outbox.record(db, undone, None, ["ralph"])
                db.execute(text("SELECT * FROM no_such_table"))  # the savepoint's work fails
        except DBAPIError:
            pass
        assert outbox_commit.pending(db.connection()) == 0
    with migrated_database.transaction() as db:
        assert list(db.scalars(select(OutboxStatement.id))) == [kept["id"]]
        assert db.scalar(select(func.count()).select_from(Delivery)) == 1
