"""Delivering the outbox: queue what an LRS has not been given yet, claim pending deliveries, post them in batches,
record what each LRS answered.

`OutboxDelivery.run_once` is one pass: per LRS, first the statements that have no delivery row for it (written
before it was configured, or by a process that does not know it yet) get one, a batch at a time from the
destination's mark (`xapi.outbox.queue_missing`), then one batch is delivered. The loop that repeats it (a thread of
the web process, or `plc-bridge worker`) lives in lti_tool/workers/. Several workers may run at once on PostgreSQL:
rows are claimed with FOR UPDATE SKIP LOCKED and stay locked while their batch is posted, so no two workers send the
same statement. A worker killed mid-batch never commits: its rows stay pending and the next worker resends them,
which the LRS takes as "already stored". On SQLite run one worker (the embedded thread).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from sqlalchemy import Text, cast, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.database import Database
from models.outbox import Delivery, DeliveryState, OutboxStatement
from xapi.backoff import backoff_seconds
from xapi.lrs_client import LrsDestination, Outcome, post_statements
from xapi.outbox import Position, queue_missing

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    delivered: int = 0
    dead: int = 0
    retried: int = 0
    posts: int = 0
    queued: int = 0  # statements written before their LRS was configured, queued for it in this pass
    passed: int = 0  # statements the destinations' marks moved past (a backlog being gone through)
    more_waiting: bool = False  # a batch was full: more may be due now, so the next pass starts at once
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.delivered + self.dead + self.retried + self.queued + self.passed

    def summary(self) -> str:
        queued = f"queued {self.queued} written before their LRS, " if self.queued else ""
        return f"{queued}delivered {self.delivered}, refused {self.dead}, to retry {self.retried}"


@dataclass
class _Claimed:
    delivery_id: int
    statement_id: str
    attempts: int
    document: str = ""


class OutboxDelivery:
    """The learning records' delivery job: each pass sends one batch per LRS."""

    def __init__(
        self,
        database: Database,
        destinations: Sequence[LrsDestination],
        batch_size: int = 100,
        max_backoff_seconds: float = 600.0,
        base_backoff_seconds: float = 2.0,
        http: requests.Session | None = None,
        queue_batch_size: int = 1000,
    ) -> None:
        self.database = database
        self.destinations = list(destinations)
        self.batch_size = batch_size
        self.queue_batch_size = queue_batch_size
        self._resume_after: dict[str, Position | None] = {}  # where each destination's queueing reads on
        self.max_backoff = max_backoff_seconds
        self.base_backoff = base_backoff_seconds
        self.http = http or requests.Session()

    @property
    def name(self) -> str:
        return "xapi-outbox"

    def run_once(self) -> PassReport:
        """Per destination: queue one batch of what it has not been given yet, then deliver one batch."""
        report = PassReport()
        for destination in self.destinations:
            # Its own short transaction: the queued rows are visible to every worker before any HTTP is done.
            with self.database.transaction() as db:
                queued = queue_missing(
                    db, destination.name, self.queue_batch_size, resume_after=self._resume_after.get(destination.name)
                )
            self._resume_after[destination.name] = queued.resume_after
            report.queued += queued.queued
            report.passed += queued.passed
            # Only a full queueing hurries the next pass. A read that found nothing missing but left younger rows
            # behind (`resume_after`) is what every pass sees while the records are younger than the settle time: it
            # reads on at the poll interval, and what it finds missing is queued then.
            report.more_waiting |= queued.queued + queued.passed >= self.queue_batch_size
            with self.database.transaction() as db:
                self._deliver_batch(db, destination, report)
        return report

    def _claim(self, db: Session, destination: LrsDestination) -> list[_Claimed]:
        """Lock a batch of due pending deliveries; rows another worker holds are skipped, not waited for."""
        query = (
            select(Delivery.id, Delivery.statement_id, Delivery.attempts)
            .where(
                Delivery.destination == destination.name,
                Delivery.state == DeliveryState.PENDING.value,
                Delivery.next_attempt_at <= utcnow(),
            )
            .order_by(Delivery.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        claimed = [_Claimed(row.id, row.statement_id, row.attempts) for row in db.execute(query)]
        if claimed:
            # The stored JSON text goes to the LRS as it is: no decoding and encoding again on the hot path.
            documents = dict(
                db.execute(
                    select(OutboxStatement.id, cast(OutboxStatement.payload, Text)).where(
                        OutboxStatement.id.in_([c.statement_id for c in claimed])
                    )
                ).all()
            )
            for item in claimed:
                item.document = documents[item.statement_id]
        return claimed

    def _deliver_batch(self, db: Session, destination: LrsDestination, report: PassReport) -> None:
        claimed = self._claim(db, destination)
        report.more_waiting |= len(claimed) >= self.batch_size
        if claimed:
            self._post(db, destination, claimed, report)

    def _post(self, db: Session, destination: LrsDestination, batch: list[_Claimed], report: PassReport) -> None:
        result = post_statements(self.http, destination, [item.document for item in batch])
        report.posts += 1
        now = utcnow()
        ids = [item.delivery_id for item in batch]
        if result.outcome is Outcome.DELIVERED:
            db.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    state=DeliveryState.DELIVERED.value,
                    delivered_at=now,
                    last_error=None,
                    attempts=Delivery.attempts + 1,
                )
            )
            report.delivered += len(batch)
        elif result.outcome is Outcome.REJECTED and len(batch) > 1:
            # Find the statement the LRS refuses by halving: the others still go through in this pass.
            middle = len(batch) // 2
            self._post(db, destination, batch[:middle], report)
            self._post(db, destination, batch[middle:], report)
        elif result.outcome is Outcome.REJECTED:
            db.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(state=DeliveryState.DEAD.value, last_error=result.reason, attempts=Delivery.attempts + 1)
            )
            report.dead += 1
            log.warning("statement %s parked for %s: %s", batch[0].statement_id, destination.name, result.reason)
        else:
            attempts = max(item.attempts for item in batch) + 1
            db.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    attempts=Delivery.attempts + 1,
                    last_error=result.reason,
                    next_attempt_at=now + timedelta(seconds=self._backoff(attempts)),
                )
            )
            report.retried += len(batch)
            report.errors.append(f"{destination.name}: {result.reason}")
            log.warning("LRS %s: %s; %d statements wait", destination.name, result.reason, len(batch))

    def _backoff(self, attempts: int) -> float:
        return backoff_seconds(attempts, self.base_backoff, self.max_backoff)
