"""Queueing the outbox for an LRS configured after records were written, and counting what waits: on SQLite and on
PostgreSQL, in milliseconds (the delivery against a real Ralph is in test_destinations_added_later.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.database import Database
from models.migrate import upgrade
from models.outbox import Delivery, DeliveryState, Destination, OutboxStatement
from models.platform import Platform
from tests.conftest import delete_test_data
from tests.xapi.test_delivery import a_statement
from xapi import outbox

LONG_AGO = timedelta(days=3)


def written(
    db: Session, count: int, destinations: list[str], age: timedelta = LONG_AGO, platform_id: int | None = None
) -> list[str]:
    """Statements written `age` ago, in order, with delivery rows for the LRSs the writer knew."""
    ids = []
    for n in range(count):
        at = utcnow() - age + timedelta(milliseconds=n)
        ids.append(outbox.record(db, a_statement(n), platform_id, destinations, created_at=at))
    return ids


def rows_for(db: Session, destination: str) -> list[str]:
    return list(db.scalars(select(Delivery.statement_id).where(Delivery.destination == destination)))


def mark(db: Session, destination: str) -> tuple[datetime | None, str | None]:
    row = db.get(Destination, destination)
    assert row is not None
    return row.queued_through_at, row.queued_through_id


def a_platform(db: Session, issuer: str) -> int:
    platform = Platform(
        issuer=issuer, client_id="c", name=issuer, auth_login_url=issuer, auth_token_url=issuer, key_set_url=issuer
    )
    db.add(platform)
    db.flush()
    return platform.id


def test_a_destination_seen_for_the_first_time_gets_a_row_for_every_statement_written_before_it(db: Session) -> None:
    for_none = written(db, 4, [])
    for_another = written(db, 3, ["district"])

    step = outbox.queue_missing(db, "backup")

    assert (step.queued, step.passed, step.resume_after) == (7, 7, None)
    assert sorted(rows_for(db, "backup")) == sorted(for_none + for_another)
    assert sorted(rows_for(db, "district")) == sorted(for_another)
    states = set(db.scalars(select(Delivery.state).where(Delivery.destination == "backup")))
    assert states == {DeliveryState.PENDING.value}


def test_queueing_goes_in_batches_from_the_mark_and_ends_when_all_are_queued(db: Session) -> None:
    ids = written(db, 25, [])

    steps = [outbox.queue_missing(db, "lrs", batch_size=10) for _ in range(4)]

    assert [(s.queued, s.passed) for s in steps] == [(10, 10), (10, 10), (5, 5), (0, 0)]
    assert sorted(rows_for(db, "lrs")) == sorted(ids)
    assert mark(db, "lrs")[1] == ids[-1]


def test_a_statement_that_has_its_row_already_is_never_queued_again(db: Session) -> None:
    ids = written(db, 3, ["lrs"])
    delivered = db.scalars(select(Delivery).where(Delivery.statement_id == ids[0])).one()
    delivered.state = DeliveryState.DELIVERED.value

    step = outbox.queue_missing(db, "lrs")

    assert step.queued == 0
    assert db.scalar(select(func.count()).select_from(Delivery)) == 3
    assert delivered.state == DeliveryState.DELIVERED.value


def test_the_mark_stays_behind_young_statements_so_one_that_appears_late_is_still_queued(db: Session) -> None:
    old = written(db, 2, [])
    young = written(db, 2, [], age=timedelta(seconds=5))
    first = outbox.queue_missing(db, "lrs")
    assert (first.queued, first.passed) == (4, 2)
    assert mark(db, "lrs")[1] == old[-1]
    # A transaction that stamped its statement before the young ones commits only now (or another host's clock
    # runs behind): the statement is behind them in the order, but not behind the mark.
    late = written(db, 1, [], age=timedelta(seconds=30))

    second = outbox.queue_missing(db, "lrs")

    assert second.queued == 1
    assert sorted(rows_for(db, "lrs")) == sorted(old + young + late)


def test_a_full_batch_of_young_statements_is_read_past_on_the_next_step(db: Session) -> None:
    ids = written(db, 15, [], age=timedelta(seconds=1))

    first = outbox.queue_missing(db, "lrs", batch_size=10)
    second = outbox.queue_missing(db, "lrs", batch_size=10, resume_after=first.resume_after)
    third = outbox.queue_missing(db, "lrs", batch_size=10, resume_after=second.resume_after)

    assert (first.queued, first.passed) == (10, 0)
    assert first.resume_after is not None and first.resume_after[1] == ids[9]
    assert (second.queued, second.resume_after) == (5, None)
    assert third.queued == 0
    assert mark(db, "lrs") == (None, None)  # none of them is settled yet
    assert sorted(rows_for(db, "lrs")) == sorted(ids)


def test_records_not_yet_queued_count_as_waiting_for_a_configured_lrs_only(db: Session) -> None:
    ours = a_platform(db, "https://ours.example")
    theirs = a_platform(db, "https://theirs.example")
    written(db, 3, [], platform_id=ours)
    queued = written(db, 2, ["lrs"], platform_id=ours)
    written(db, 5, [], platform_id=theirs)
    db.flush()

    rows = {row.destination: row for row in outbox.status(db, ["lrs"], platform_id=ours)}

    assert (rows["lrs"].pending, rows["lrs"].not_queued, rows["lrs"].waiting) == (2, 3, 5)
    assert rows["lrs"].oldest_pending_at is not None
    assert rows["lrs"].oldest_pending_at < utcnow() - timedelta(days=2)  # when the oldest record was written
    assert rows_for(db, "lrs") == queued  # counting queues nothing

    outbox.queue_missing(db, "lrs")
    after = {row.destination: row for row in outbox.status(db, ["lrs"], platform_id=ours)}
    assert (after["lrs"].pending, after["lrs"].not_queued, after["lrs"].waiting) == (5, 0, 5)


def test_what_waits_for_no_lrs_is_counted_per_platform(db: Session) -> None:
    ours = a_platform(db, "https://ours.example")
    theirs = a_platform(db, "https://theirs.example")
    written(db, 4, [], platform_id=ours)
    written(db, 1, ["old-lrs"], platform_id=ours)
    written(db, 6, [], platform_id=theirs)

    waiting = outbox.unaddressed(db, platform_id=ours)
    rows = {row.destination: row for row in outbox.status(db, [], platform_id=ours)}

    assert waiting.count == 4
    assert waiting.oldest_at is not None and waiting.oldest_at < utcnow() - timedelta(days=2)
    assert outbox.unaddressed(db).count == 10
    assert rows["old-lrs"].configured is False and rows["old-lrs"].not_queued == 0


def test_an_empty_outbox_waits_for_nothing(db: Session) -> None:
    assert outbox.unaddressed(db) == outbox.Unaddressed(0, None)
    assert outbox.queue_missing(db, "lrs") == outbox.Queued(0, 0, None)
    assert [(r.destination, r.waiting) for r in outbox.status(db, ["lrs"])] == [("lrs", 0)]


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    upgrade(database.engine)
    delete_test_data(database)
    yield database
    delete_test_data(database)
    database.dispose()


@pytest.mark.postgres
def test_a_destination_another_worker_is_queueing_for_is_skipped_not_waited_for(postgres: Database) -> None:
    with postgres.transaction() as db:
        written(db, 5, [])
        outbox.queue_missing(db, "lrs", batch_size=2)  # the destination's row exists
    with postgres.transaction() as holder:
        holder.scalars(select(Destination).where(Destination.name == "lrs").with_for_update()).one()
        with postgres.transaction() as other:
            skipped = outbox.queue_missing(other, "lrs")
    with postgres.transaction() as db:
        resumed = outbox.queue_missing(db, "lrs")
        total = db.scalar(select(func.count()).select_from(Delivery))
        statements = db.scalar(select(func.count()).select_from(OutboxStatement))

    assert skipped == outbox.Queued(0, 0, None)
    assert resumed.queued == 3
    assert total == statements == 5
