"""Writing statements into the outbox (inside the caller's transaction) and looking at its state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.base import utcnow
from models.outbox import Delivery, DeliveryState, OutboxStatement


def record(
    db: Session, statement: dict[str, Any], platform_id: int | None, destinations: Sequence[str]
) -> OutboxStatement:
    """Add a statement and one pending delivery per destination to the caller's unit of work.

    The caller commits it with the domain change it describes, or rolls both back: never one without the other.
    """
    row = OutboxStatement(
        id=statement["id"],
        platform_id=platform_id,
        verb=statement["verb"]["id"],
        payload=statement,
        created_at=utcnow(),
    )
    row.deliveries = [Delivery(destination=name, state=DeliveryState.PENDING.value) for name in destinations]
    db.add(row)
    return row


@dataclass(frozen=True)
class DestinationStatus:
    destination: str
    pending: int
    delivered: int
    dead: int
    oldest_pending_at: datetime | None

    def oldest_pending_age_seconds(self, now: datetime | None = None) -> float | None:
        if self.oldest_pending_at is None:
            return None
        return ((now or utcnow()) - self.oldest_pending_at).total_seconds()


def _scoped(query: Any, platform_id: int | None) -> Any:
    """Limit an outbox query to one platform's statements (an LTI admin sees only their own platform)."""
    if platform_id is None:
        return query
    return query.join(OutboxStatement, OutboxStatement.id == Delivery.statement_id).where(
        OutboxStatement.platform_id == platform_id
    )


def status(db: Session, destinations: Sequence[str], platform_id: int | None = None) -> list[DestinationStatus]:
    counts: dict[tuple[str, str], int] = {}
    query = _scoped(select(Delivery.destination, Delivery.state, func.count()), platform_id)
    for destination, state, count in db.execute(query.group_by(Delivery.destination, Delivery.state)):
        counts[(destination, state)] = int(count)
    oldest_query = _scoped(select(Delivery.destination, func.min(Delivery.created_at)), platform_id)
    oldest = dict(
        db.execute(
            oldest_query.where(Delivery.state == DeliveryState.PENDING.value).group_by(Delivery.destination)
        ).all()
    )
    names = list(dict.fromkeys([*destinations, *(d for d, _ in counts)]))
    return [
        DestinationStatus(
            name,
            counts.get((name, DeliveryState.PENDING.value), 0),
            counts.get((name, DeliveryState.DELIVERED.value), 0),
            counts.get((name, DeliveryState.DEAD.value), 0),
            oldest.get(name),
        )
        for name in names
    ]


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
    """Queue every statement (since a moment) for a destination again: a new LRS, or one that lost data.

    Safe because statement ids are fixed: an LRS that already holds one answers "already stored".
    """
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
