"""The transactional outbox: xAPI statements written in the same transaction as the domain change, their delivery
state per LRS destination, and how far the workers have queued the outbox for each destination."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # the LRS refused it as invalid or conflicting; an admin can inspect and resend


class OutboxStatement(Base):
    """One xAPI statement; its id is the statement's own UUID, fixed when the row is written."""

    __tablename__ = "xapi_statements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id", ondelete="SET NULL"), index=True)
    verb: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="statement", cascade="all, delete-orphan")


class Delivery(Base):
    """The state of one statement at one LRS destination."""

    __tablename__ = "xapi_deliveries"
    __table_args__ = (
        UniqueConstraint("statement_id", "destination"),
        # The worker's claim query: pending rows of a destination that are due, oldest first.
        Index("ix_xapi_deliveries_claim", "destination", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(ForeignKey("xapi_statements.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    statement: Mapped[OutboxStatement] = relationship(back_populates="deliveries")


class Destination(Base):
    """An LRS the workers deliver to, and the mark up to which every statement has a delivery row for it.

    A statement gets its delivery rows when it is written, for the LRSs the writing process knows. One written
    before an LRS was configured (or by a process that does not know it yet) has none for it: the worker finds
    those after the mark (statements ordered by `created_at`, then id), gives each a pending row, and moves the
    mark on. A destination seen for the first time has no mark, so it gets every statement ever written.
    """

    __tablename__ = "xapi_destinations"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_through_at: Mapped[datetime | None] = mapped_column(default=None)
    queued_through_id: Mapped[str | None] = mapped_column(String(36), default=None)
