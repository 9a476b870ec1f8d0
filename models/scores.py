"""The score outbox: an AGS score for the LMS gradebook, written in the same transaction as the grade it carries,
and its delivery state. A worker sends it (lti_tool/workers/scores.py); nothing here knows HTTP."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.people import ResourceLink


class ScoreState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the platform refused it for good (or it has nowhere to go); an admin can resend


class ScorePost(Base):
    """One score for one person on one reflection's line item; the document (with its timestamp) is fixed when
    the row is written, so a resend is the same score again, which the platform takes once (AGS §3.4.7)."""

    __tablename__ = "ags_score_posts"
    __table_args__ = (
        # The worker's claim query: pending rows that are due, oldest first.
        Index("ix_ags_score_posts_claim", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    grade_id: Mapped[int] = mapped_column(ForeignKey("plc_grades.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="SET NULL"), default=None, index=True
    )
    user_id: Mapped[str] = mapped_column(String(255))  # the teacher's LTI sub
    score: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=ScoreState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    lineitem_url: Mapped[str | None] = mapped_column(String(1024), default=None)  # where it went
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    resource_link: Mapped[ResourceLink | None] = relationship()


@dataclass(frozen=True)
class ScoreStatus:
    pending: int
    delivered: int
    failed: int
    oldest_pending_at: datetime | None


def status(db: Session, platform_id: int | None = None) -> ScoreStatus:
    counts_query = select(ScorePost.state, func.count()).group_by(ScorePost.state)
    oldest_query = select(func.min(ScorePost.created_at)).where(ScorePost.state == ScoreState.PENDING.value)
    if platform_id is not None:
        counts_query = counts_query.where(ScorePost.platform_id == platform_id)
        oldest_query = oldest_query.where(ScorePost.platform_id == platform_id)
    counts = {state: int(count) for state, count in db.execute(counts_query)}
    return ScoreStatus(
        counts.get(ScoreState.PENDING.value, 0),
        counts.get(ScoreState.DELIVERED.value, 0),
        counts.get(ScoreState.FAILED.value, 0),
        db.scalar(oldest_query),
    )


def waiting(db: Session, platform_id: int | None = None, limit: int = 100) -> list[ScorePost]:
    """Pending and failed score posts, failed first, then oldest first: what an admin looks at."""
    query = select(ScorePost).where(ScorePost.state.in_([ScoreState.PENDING.value, ScoreState.FAILED.value]))
    if platform_id is not None:
        query = query.where(ScorePost.platform_id == platform_id)
    order = (ScorePost.state != ScoreState.FAILED.value, ScorePost.id)
    return list(db.scalars(query.order_by(*order).limit(limit)))


def resend(db: Session, platform_id: int | None = None, post_id: int | None = None) -> int:
    """Queue failed score posts (all of a platform's, or one) again, due now."""
    query = update(ScorePost).where(ScorePost.state == ScoreState.FAILED.value)
    if platform_id is not None:
        query = query.where(ScorePost.platform_id == platform_id)
    if post_id is not None:
        query = query.where(ScorePost.id == post_id)
    result = db.execute(
        query.values(state=ScoreState.PENDING.value, attempts=0, next_attempt_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
