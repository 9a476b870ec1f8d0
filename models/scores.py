"""The score outbox: an AGS score for the LMS gradebook, written in the same transaction as the grade it carries,
and its delivery state. A worker sends it (lti_tool/workers/scores.py); nothing here knows HTTP."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, and_, exists, func, select, update
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

from models.base import Base, utcnow
from models.errors import InvalidInput, Problem, ProgramError
from models.people import Context, Membership, Person, ResourceLink
from models.reflections import Grade, Reflection


class ScoreState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the platform refused it for good (or it has nowhere to go); an admin can resend
    SUPERSEDED = "superseded"  # a newer grade of the same reflection reached the gradebook: nothing left to send
    DISMISSED = "dismissed"  # closed by the site administrator, with the reason kept: a failed score, or one with
    # nowhere to go (dismiss_unsendable)


OPEN_STATES = (ScoreState.PENDING.value, ScoreState.FAILED.value)
CLOSED_STATES = (ScoreState.SUPERSEDED.value, ScoreState.DISMISSED.value)
MAX_DISMISS_REASON = 500


class ScoreProblem(enum.StrEnum):
    """Why a score waits or failed, as a code the pages translate (the platform's own words are in last_error)."""

    NO_ACTIVITY = "no_activity"  # the course has no reflection activity (nor line item) for the cycle yet
    NO_GRADEBOOK = "no_gradebook"  # no launch in the course carried the AGS service, or it grants no scores
    KEYSET_UNREACHABLE = "keyset_unreachable"  # the platform could not fetch the tool's keyset (Moodle's 404 page)
    TOKEN_REFUSED = "token_refused"  # the platform does not accept the tool's signed request for a token
    PLATFORM_DOWN = "platform_down"  # down, slow, or answering garbage: tried again later
    PLATFORM_REFUSED = "platform_refused"  # a lasting refusal (400, 403, 404)


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
    reason_code: Mapped[str | None] = mapped_column(String(32), default=None)  # a ScoreProblem while it waits/failed
    # Closed without being sent: superseded by a newer grade, or dismissed by the site administrator with a reason.
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), default=None)
    close_reason: Mapped[str | None] = mapped_column(Text, default=None)

    resource_link: Mapped[ResourceLink | None] = relationship()
    grade: Mapped[Grade] = relationship()
    closed_by: Mapped[Person | None] = relationship()


class ScoreNotFailed(ProgramError):
    """Only a failed score can be dismissed from the score page (a waiting one may still arrive; a delivered one is in
    the gradebook); dismiss_unsendable closes waiting ones only where no gradebook can take them."""

    code = "score_not_failed"

    def __init__(self, state: str) -> None:
        super().__init__(f"the score is {state}, not failed", state=state)


@dataclass(frozen=True)
class ScoreStatus:
    pending: int
    delivered: int
    failed: int
    oldest_pending_at: datetime | None
    superseded: int = 0
    dismissed: int = 0


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
        counts.get(ScoreState.SUPERSEDED.value, 0),
        counts.get(ScoreState.DISMISSED.value, 0),
    )


def waiting(db: Session, platform_id: int | None = None, limit: int = 100) -> list[ScorePost]:
    """Pending and failed score posts, failed first, then oldest first: what an admin looks at."""
    query = select(ScorePost).where(ScorePost.state.in_([ScoreState.PENDING.value, ScoreState.FAILED.value]))
    if platform_id is not None:
        query = query.where(ScorePost.platform_id == platform_id)
    order = (ScorePost.state != ScoreState.FAILED.value, ScorePost.id)
    return list(db.scalars(query.order_by(*order).limit(limit)))


def closed(db: Session, platform_id: int | None = None, limit: int = 50) -> list[ScorePost]:
    """Scores closed without being sent (superseded, dismissed), newest first: kept with their reason."""
    query = select(ScorePost).where(ScorePost.state.in_(CLOSED_STATES))
    if platform_id is not None:
        query = query.where(ScorePost.platform_id == platform_id)
    return list(db.scalars(query.order_by(ScorePost.closed_at.desc(), ScorePost.id.desc()).limit(limit)))


def course_titles(db: Session, post_ids: list[int]) -> dict[int, str]:
    """The course each score post's grade belongs to, by post id, read in one statement: a site administrator's list
    covers every course of the platform, and their activities are often named alike ("PLC cycle 1")."""
    if not post_ids:
        return {}
    query = (
        select(ScorePost.id, Context.title, Context.label, Context.context_id)
        .join(Grade, Grade.id == ScorePost.grade_id)
        .join(Reflection, Reflection.id == Grade.reflection_id)
        .join(Membership, Membership.id == Reflection.membership_id)
        .join(Context, Context.id == Membership.context_id)
        .where(ScorePost.id.in_(post_ids))
    )
    return {post_id: title or label or context_id for post_id, title, label, context_id in db.execute(query)}


def latest_for_grades(db: Session, grade_ids: list[int]) -> dict[int, ScorePost]:
    """Each grade's newest score post (a grade has one; a resend reuses it), for the trainer's pages."""
    if not grade_ids:
        return {}
    rows = db.scalars(select(ScorePost).where(ScorePost.grade_id.in_(grade_ids)).order_by(ScorePost.id))
    return {post.grade_id: post for post in rows}


def close_superseded(db: Session, platform_id: int | None = None) -> int:
    """Close the waiting and failed scores of a reflection whose newer grade has reached the gradebook: the platform
    keeps the newest score (AGS §3.4.7), so sending the older one again would change nothing, or undo the newer."""
    newer, newer_grade, own_grade = aliased(ScorePost), aliased(Grade), aliased(Grade)
    delivered_later = exists().where(
        newer.grade_id == newer_grade.id,
        newer_grade.reflection_id == own_grade.reflection_id,
        newer.user_id == ScorePost.user_id,
        newer.state == ScoreState.DELIVERED.value,
        newer.id > ScorePost.id,
    )
    query = select(ScorePost.id).where(
        ScorePost.state.in_(OPEN_STATES),
        exists().where(and_(own_grade.id == ScorePost.grade_id, delivered_later)),
    )
    if platform_id is not None:
        query = query.where(ScorePost.platform_id == platform_id)
    ids = list(db.scalars(query))
    if not ids:
        return 0
    db.execute(
        update(ScorePost)
        .where(ScorePost.id.in_(ids))
        .values(
            state=ScoreState.SUPERSEDED.value,
            closed_at=utcnow(),
            close_reason="a newer grade of the same reflection reached the gradebook",
        )
        .execution_options(synchronize_session=False)
    )
    return len(ids)


def dismiss(post: ScorePost, person_id: int, reason: str, now: datetime | None = None) -> None:
    """Close a failed score for good, keeping who closed it, when, and why (the reason is required, whole)."""
    if post.state != ScoreState.FAILED.value:
        raise ScoreNotFailed(post.state)
    _mark_dismissed(post, person_id, _dismiss_reason(reason), now or utcnow())


def _mark_dismissed(post: ScorePost, person_id: int, reason: str, now: datetime) -> None:
    """Close the score as dismissed, keeping who closed it, when, and the (checked) reason."""
    post.state = ScoreState.DISMISSED.value
    post.closed_at, post.closed_by_id, post.close_reason = now, person_id, reason


def _dismiss_reason(reason: str) -> str:
    """The reason a score is closed for, as kept: required, whole, at most MAX_DISMISS_REASON characters."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput([Problem("reason", "required", {})])
    if len(reason) > MAX_DISMISS_REASON:
        raise InvalidInput([Problem("reason", "too_long", {"most": MAX_DISMISS_REASON})])
    return reason


def dismiss_unsendable(db: Session, grade_ids: list[int], person_id: int, reason: str, now: datetime) -> int:
    """Close the waiting scores of these grades without trying them, as a site administrator dismisses a failed one
    (who, when and why kept): for grades of a course whose LMS keeps no gradebook for them, the demo's finished
    example of synthetic data, so that no score is left failing for an administrator to look into."""
    reason = _dismiss_reason(reason)
    posts = list(
        db.scalars(
            select(ScorePost).where(ScorePost.grade_id.in_(grade_ids), ScorePost.state == ScoreState.PENDING.value)
        )
    )
    for post in posts:
        _mark_dismissed(post, person_id, reason, now)
    return len(posts)


def resend(db: Session, platform_id: int | None = None, post_id: int | None = None) -> int:
    """Queue failed score posts (all of a platform's, or one) again, due now; those a newer delivered grade of the same
    reflection superseded are closed instead, never sent again."""
    close_superseded(db, platform_id)
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
