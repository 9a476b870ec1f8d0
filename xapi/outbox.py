"""Writing statements into the outbox (inside the caller's transaction), queueing them for an LRS configured after
they were written, and looking at the outbox's state."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Dialect, and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import UTCDateTime, utcnow
from models.outbox import Delivery, DeliveryState, Destination, OutboxStatement
from xapi.outbox_commit import write_with_commit

SETTLE = timedelta(minutes=5)
"""How long a statement may take to become visible after it was stamped: its transaction commits later than
`created_at`, and another host's clock may run a little behind. The queueing mark stays this far behind, so a
statement that appears late behind the mark is still found."""


POSTGRESQL_INSERT = """
WITH statement AS (
    INSERT INTO xapi_statements (id, platform_id, verb, payload, created_at)
    VALUES (%(id)s, %(platform_id)s, %(verb)s, CAST(%(payload)s AS JSON), %(at)s)
)
INSERT INTO xapi_deliveries (statement_id, destination, state, attempts, next_attempt_at, created_at)
SELECT %(id)s, destination, %(pending)s, 0, %(at)s, %(at)s
FROM unnest(CAST(%(destinations)s AS VARCHAR[])) AS destination
"""
"""The statement and its deliveries in one INSERT (the statement's in a WITH clause; the deliveries' foreign key is
checked at the end of the statement, after it), sent with the transaction's COMMIT (xapi/outbox_commit.py): no round
trip of its own."""

_SQLITE_STATEMENT = """
INSERT INTO xapi_statements (id, platform_id, verb, payload, created_at) VALUES (:id, :platform_id, :verb, :payload, :at)
"""
_SQLITE_DELIVERY = """
INSERT INTO xapi_deliveries (statement_id, destination, state, attempts, next_attempt_at, created_at)
VALUES (:id, :destination, :pending, 0, :at, :at)
"""
"""SQLite, in the process: no round trip to save, two INSERTs (the deliveries' as one executemany)."""

_MOMENT = UTCDateTime()


@functools.cache
def _moment(dialect: Dialect) -> Callable[[datetime], Any]:
    """How the database stores a moment, as the models' columns store it (SQLite: text in SQLAlchemy's format)."""
    process = _MOMENT.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


def row_values(
    dialect: Dialect, statement: dict[str, Any], platform_id: int | None, created_at: datetime | None = None
) -> dict[str, Any]:
    """The parameters of `record`'s INSERTs but the destinations: its JSON made once, its moment as the models store
    it."""
    return {
        "id": statement["id"],
        "platform_id": platform_id,
        "verb": statement["verb"]["id"],
        "payload": json.dumps(statement),
        "at": _moment(dialect)(created_at or utcnow()),
        "pending": DeliveryState.PENDING.value,
    }


def record(
    db: Session,
    statement: dict[str, Any],
    platform_id: int | None,
    destinations: Sequence[str],
    created_at: datetime | None = None,
) -> str:
    """Write a statement and one pending delivery per destination in the caller's transaction; returns its id.

    The caller commits it with the domain change it describes, or rolls both back: never one without the other.
    This is on the path of every launch and PLC event, so it is the SQL itself (no unit of work, no SQL compiled per
    call), and the statement's JSON is made here once, with json.dumps's defaults as SQLAlchemy's JSON type would,
    and stored as it is: the worker sends that text. On SQLite the rows are written at once (in the process, no round
    trip to save); on PostgreSQL they go with the transaction's COMMIT, in its round trip, or before a savepoint or a
    statement on the outbox's tables, whichever comes first (xapi/outbox_commit.py).
    """
    connection = db.connection()
    dialect = connection.dialect
    params = row_values(dialect, statement, platform_id, created_at)
    if dialect.name == "postgresql":
        write_with_commit(connection, POSTGRESQL_INSERT, {**params, "destinations": list(destinations)})
    elif dialect.name == "sqlite":
        connection.exec_driver_sql(_SQLITE_STATEMENT, params)
        if destinations:
            connection.exec_driver_sql(_SQLITE_DELIVERY, [{**params, "destination": name} for name in destinations])
    else:
        raise NotImplementedError(f"the outbox is written on SQLite or PostgreSQL, not {dialect.name}")
    return str(statement["id"])


Position = tuple[datetime, str]
"""A place in the outbox's order: a statement's (created_at, id)."""


@dataclass(frozen=True)
class Queued:
    """What one queueing step did for a destination, and where the next one goes on."""

    queued: int  # statements that had no delivery row for it and got a pending one
    passed: int  # statements the mark moved past: from now on each has its row for good
    resume_after: Position | None  # the next step looks after this (None: from the mark again)


def _after(position: Position | None) -> ColumnElement[bool]:
    """Statements after a position, in the order (created_at, id); written so that the index on created_at serves it."""
    if position is None:
        return OutboxStatement.id.is_not(None)
    at, statement_id = position
    return and_(
        OutboxStatement.created_at >= at,
        or_(OutboxStatement.created_at > at, OutboxStatement.id > statement_id),
    )


def _mark_of(destination: Destination | None) -> Position | None:
    if destination is None or destination.queued_through_at is None or destination.queued_through_id is None:
        return None
    return destination.queued_through_at, destination.queued_through_id


def _without_delivery_to(destination: str) -> ColumnElement[bool]:
    return ~exists().where(Delivery.statement_id == OutboxStatement.id, Delivery.destination == destination)


def _claim_mark(db: Session, destination: str) -> Destination | None:
    """The destination's mark, locked for this transaction; None while another worker holds it (PostgreSQL's
    SKIP LOCKED: that worker is queueing for it now). A destination seen for the first time gets its row here."""
    locked = select(Destination).where(Destination.name == destination).with_for_update(skip_locked=True)
    mark = db.scalars(locked.execution_options(populate_existing=True)).first()
    if mark is not None:
        return mark
    if db.scalar(select(Destination.name).where(Destination.name == destination)) is not None:
        return None
    try:
        with db.begin_nested():
            mark = Destination(name=destination, first_seen_at=utcnow())
            db.add(mark)
            db.flush()
    except IntegrityError:  # another worker saw it first and holds it
        return None
    return mark


def queue_missing(
    db: Session,
    destination: str,
    batch_size: int = 1000,
    settle: timedelta = SETTLE,
    resume_after: Position | None = None,
) -> Queued:
    """Give the statements that have no delivery row for this destination a pending one, a batch at a time.

    Records written before the LRS was configured, or by a process that does not know it yet, reach it this way,
    each once: the destination's row is locked while a batch is queued (a second worker skips it), and a row that
    exists is never added again. A batch read from the mark moves the mark past its statements older than `settle`;
    when a full batch leaves younger ones behind it, the next step reads on after it (`resume_after`) instead of
    reading the same batch again. The caller commits each step, so a worker stopped half-way resumes from the mark.
    """
    mark = _claim_mark(db, destination)
    if mark is None:
        return Queued(0, 0, resume_after)
    now = utcnow()
    from_mark = resume_after is None
    batch = db.execute(
        select(OutboxStatement.id, OutboxStatement.created_at)
        .where(_after(_mark_of(mark) if from_mark else resume_after))
        .order_by(OutboxStatement.created_at, OutboxStatement.id)
        .limit(batch_size)
    ).all()
    if not batch:
        return Queued(0, 0, None)
    missing = list(
        db.scalars(
            select(OutboxStatement.id)
            .where(OutboxStatement.id.in_([row.id for row in batch]), _without_delivery_to(destination))
            .order_by(OutboxStatement.created_at, OutboxStatement.id)
        )
    )
    if missing:
        db.execute(
            insert(Delivery),
            [
                {
                    "statement_id": statement_id,
                    "destination": destination,
                    "state": DeliveryState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for statement_id in missing
            ],
        )
    # The batch is in order, so the statements old enough to be settled are a prefix of it. Only a batch read from
    # the mark may move it: everything between the mark and a batch read further on was looked at earlier, when
    # some of it may not have been visible yet.
    settled = [row for row in batch if row.created_at <= now - settle] if from_mark else []
    if settled:
        mark.queued_through_at, mark.queued_through_id = settled[-1].created_at, settled[-1].id
    resume = (batch[-1].created_at, batch[-1].id) if len(batch) == batch_size and len(settled) < len(batch) else None
    return Queued(len(missing), len(settled), resume)


@dataclass(frozen=True)
class DestinationStatus:
    destination: str
    pending: int
    delivered: int
    dead: int
    oldest_pending_at: datetime | None  # when the oldest record still waiting for this LRS was written
    not_queued: int = 0  # records written before it was configured, that a worker has yet to queue for it
    configured: bool = True

    @property
    def waiting(self) -> int:
        return self.pending + self.not_queued

    def oldest_pending_age_seconds(self, now: datetime | None = None) -> float | None:
        if self.oldest_pending_at is None:
            return None
        return ((now or utcnow()) - self.oldest_pending_at).total_seconds()


@dataclass(frozen=True)
class Unaddressed:
    """Records that wait for no LRS at all: written while none was configured, and no worker has queued them since."""

    count: int
    oldest_at: datetime | None


def _scoped(query: Any, platform_id: int | None) -> Any:
    """Limit an outbox query to one platform's statements (an LTI admin sees only their own platform)."""
    if platform_id is None:
        return query
    return query.join(OutboxStatement, OutboxStatement.id == Delivery.statement_id).where(
        OutboxStatement.platform_id == platform_id
    )


def _statements(query: Any, platform_id: int | None) -> Any:
    return query if platform_id is None else query.where(OutboxStatement.platform_id == platform_id)


def _not_queued(db: Session, destination: str, platform_id: int | None) -> tuple[int, datetime | None]:
    """Statements with no delivery row for a configured destination. Behind its mark every statement has one, so only
    the statements after it are looked at."""
    query = select(func.count(), func.min(OutboxStatement.created_at)).where(
        _after(_mark_of(db.get(Destination, destination))), _without_delivery_to(destination)
    )
    count, oldest = db.execute(_statements(query, platform_id)).one()
    return int(count), oldest


def status(db: Session, destinations: Sequence[str], platform_id: int | None = None) -> list[DestinationStatus]:
    """Per LRS (the configured ones first, then any other that rows were written for): what waits, was delivered or
    refused, and since when the oldest waiting record was written."""
    counts: dict[tuple[str, str], int] = {}
    query = _scoped(select(Delivery.destination, Delivery.state, func.count()), platform_id)
    for destination, state, count in db.execute(query.group_by(Delivery.destination, Delivery.state)):
        counts[(destination, state)] = int(count)
    oldest_query = (
        select(Delivery.destination, func.min(OutboxStatement.created_at))
        .join(OutboxStatement, OutboxStatement.id == Delivery.statement_id)
        .where(Delivery.state == DeliveryState.PENDING.value)
    )
    oldest: dict[str, datetime] = {
        destination: at
        for destination, at in db.execute(_statements(oldest_query, platform_id).group_by(Delivery.destination))
    }
    names = list(dict.fromkeys([*destinations, *(d for d, _ in counts)]))
    rows = []
    for name in names:
        not_queued, oldest_not_queued = _not_queued(db, name, platform_id) if name in destinations else (0, None)
        waiting_since = [at for at in (oldest.get(name), oldest_not_queued) if at is not None]
        rows.append(
            DestinationStatus(
                name,
                counts.get((name, DeliveryState.PENDING.value), 0),
                counts.get((name, DeliveryState.DELIVERED.value), 0),
                counts.get((name, DeliveryState.DEAD.value), 0),
                min(waiting_since, default=None),
                not_queued,
                configured=name in destinations,
            )
        )
    return rows


def unaddressed(db: Session, platform_id: int | None = None) -> Unaddressed:
    """Statements with no delivery row at all. While no LRS is configured these are every record written; once one
    is, its worker queues them (and they count as waiting for it)."""
    query = select(func.count(), func.min(OutboxStatement.created_at)).where(
        ~exists().where(Delivery.statement_id == OutboxStatement.id)
    )
    count, oldest = db.execute(_statements(query, platform_id)).one()
    return Unaddressed(int(count), oldest)


def dead_letters(db: Session, platform_id: int | None = None, limit: int = 100) -> list[Delivery]:
    query = _scoped(select(Delivery).where(Delivery.state == DeliveryState.DEAD.value), platform_id)
    return list(db.scalars(query.order_by(Delivery.id).limit(limit)))


def retry_dead(db: Session, destination: str | None = None, platform_id: int | None = None) -> int:
    """Put dead letters back in the queue (after the LRS or the statement was fixed)."""
    ids = select(Delivery.id).where(Delivery.state == DeliveryState.DEAD.value)
    if destination:
        ids = ids.where(Delivery.destination == destination)
    ids = _scoped(ids, platform_id)
    result = db.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids.scalar_subquery()))
        .values(state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def resend(db: Session, destination: str, since: datetime | None = None) -> int:
    """Queue every statement (since a moment) for a destination again: an LRS that lost data (restored from a
    backup). A new LRS needs no resend: the worker queues everything written before it on its own.

    Safe because statement ids are fixed: an LRS that already holds one answers "already stored".
    """
    # A worker queueing for this destination commits first: neither then adds a row the other has just added.
    db.scalars(select(Destination).where(Destination.name == destination).with_for_update()).first()
    query = select(OutboxStatement.id)
    if since is not None:
        query = query.where(OutboxStatement.created_at >= since)
    statement_ids = list(db.scalars(query))
    existing = {d.statement_id: d for d in db.scalars(select(Delivery).where(Delivery.destination == destination))}
    now = utcnow()
    for statement_id in statement_ids:
        delivery = existing.get(statement_id)
        if delivery is None:
            db.add(Delivery(statement_id=statement_id, destination=destination, next_attempt_at=now))
        else:
            delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.PENDING.value, 0, now
            delivery.last_error, delivery.delivered_at = None, None
    return len(statement_ids)
