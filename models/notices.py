"""Notices: what the tool tells a person (a Buddy's observation of their lesson arrived, their reflection was graded,
a deadline is near), kept in their notice list in the tool and delivered by LINE and e-mail through an outbox, like
the learning records: a notice and its deliveries are written in the same transaction as the event.

A delivery is one notice on one channel. The worker (lti_tool/workers/notices.py) claims pending ones that are due,
never in the quiet hours, and records what the channel answered: delivered, tried again later with backoff, or parked
with the provider's reason when it is refused for good (an admin can resend it). The notice itself stays in the list
whatever its deliveries do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.calendar import THAI_TIME
from models.database import read_now
from models.people import Person


class Kind(enum.StrEnum):
    """What a notice is about; each can be switched off per person (the notice list keeps it all the same)."""

    OBSERVATION_SUBMITTED = "observation_submitted"  # to a Model Teacher: a Buddy's observation of their lesson
    OBSERVATION_MISSING = "observation_missing"  # to a Buddy: the lesson date has passed, no observation yet
    REFLECTION_GRADED = "reflection_graded"  # to a teacher: their reflection's score and comment
    ELEMENTS_NOT_RECORDED = "elements_not_recorded"  # to a team, weekly: the current cycle's missing elements
    TRAINER_DIGEST = "trainer_digest"  # to trainers, daily at 07:30: reflections to grade, deadlines near
    YEAR_ENDING = "year_ending"  # to trainers and teams: the program year ends in 30 / 7 days
    CERTIFICATE_WINDOW_ENDING = "certificate_window_ending"  # to trainers: the Council's 30 days end in 10 / 3 days
    CERTIFICATE_ISSUED = "certificate_issued"  # to a teacher: their certificate, with its /verify link


TEACHER_KINDS = (
    Kind.OBSERVATION_SUBMITTED,
    Kind.OBSERVATION_MISSING,
    Kind.REFLECTION_GRADED,
    Kind.ELEMENTS_NOT_RECORDED,
    Kind.YEAR_ENDING,
    Kind.CERTIFICATE_ISSUED,
)
TRAINER_KINDS = (Kind.TRAINER_DIGEST, Kind.YEAR_ENDING, Kind.CERTIFICATE_WINDOW_ENDING)


class Channel(enum.StrEnum):
    LINE = "line"
    EMAIL = "email"


class NoticeState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"  # refused for good (blocked account, invalid address): an admin can resend
    SENDING = "sending"  # handed to the channel, its answer not recorded yet (committed before sending)


# Quiet hours, Thai time: no LINE message or e-mail from 20:00 until 07:00; they wait until morning.
QUIET_FROM = time(20, 0)
QUIET_UNTIL = time(7, 0)


def in_quiet_hours(moment: datetime) -> bool:
    local = moment.astimezone(THAI_TIME).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def end_of_quiet_hours(moment: datetime) -> datetime:
    """The next 07:00 Thai time at or after `moment` (`moment` itself when it is outside the quiet hours)."""
    if not in_quiet_hours(moment):
        return moment
    local = moment.astimezone(THAI_TIME)
    morning = local.replace(hour=QUIET_UNTIL.hour, minute=0, second=0, microsecond=0)
    if local.time() >= QUIET_FROM:
        morning += timedelta(days=1)
    return morning


class Notice(Base):
    """One notice to one person, about one page of the tool (an endpoint and its arguments, opened through the
    person's own launch: a notice carries no login)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_person_list", "person_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    membership_id: Mapped[int | None] = mapped_column(
        ForeignKey("memberships.id", ondelete="CASCADE"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # numbers and dates only, never others' text
    endpoint: Mapped[str | None] = mapped_column(String(64), default=None)
    endpoint_args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Time-based reminders: once per person, kind and subject, whichever scheduler writes it first.
    once_key: Mapped[str | None] = mapped_column(String(255), default=None, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)

    deliveries: Mapped[list[NoticeDelivery]] = relationship(back_populates="notice", cascade="all, delete-orphan")


class NoticeDelivery(Base):
    """One notice on one channel, and what the channel answered."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (Index("ix_notice_deliveries_claim", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=NoticeState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    notice: Mapped[Notice] = relationship(back_populates="deliveries")


class NoticePreference(Base):
    """A kind of notice a person switched off (or on again): off means the list only, no LINE and no e-mail."""

    __tablename__ = "notice_preferences"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


@dataclass(frozen=True)
class Target:
    """The page a notice is about: an endpoint of the tool and its arguments."""

    endpoint: str | None = None
    args: dict[str, Any] | None = None


def switched_off(db: Session, person_id: int) -> set[str]:
    return set(
        db.scalars(
            select(NoticePreference.kind).where(
                NoticePreference.person_id == person_id, NoticePreference.enabled.is_(False)
            )
        )
    )


def set_preferences(db: Session, person_id: int, enabled: dict[str, bool]) -> None:
    """Each kind on or off for the person (kinds not named keep their setting)."""
    existing = {p.kind: p for p in db.scalars(select(NoticePreference).where(NoticePreference.person_id == person_id))}
    for kind, on in enabled.items():
        if kind in existing:
            existing[kind].enabled = on
        else:
            db.add(NoticePreference(person_id=person_id, kind=kind, enabled=on))


def write_notice(
    db: Session,
    person: Person,
    kind: Kind,
    params: dict[str, Any],
    target: Target,
    channels: list[Channel],
    *,
    membership_id: int | None = None,
    once_key: str | None = None,
    now: datetime | None = None,
) -> Notice | None:
    """Write a notice and a pending delivery per channel in the caller's transaction. With `once_key`, a notice that
    another transaction (another scheduler, an earlier run) already wrote is not written again: None then."""
    created = now or utcnow()
    values = {
        "platform_id": person.platform_id,
        "person_id": person.id,
        "membership_id": membership_id,
        "kind": kind.value,
        "params": params,
        "endpoint": target.endpoint,
        "endpoint_args": target.args or {},
        "once_key": once_key,
        "created_at": created,
    }
    if once_key is not None:
        # INSERT … ON CONFLICT DO NOTHING: two schedulers at once write one notice, the other gets no row back.
        insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        notice_id = db.scalar(
            insert(Notice).values(**values).on_conflict_do_nothing(index_elements=["once_key"]).returning(Notice.id)
        )
        if notice_id is None:
            return None
        notice = db.get(Notice, notice_id)
        assert notice is not None
    else:
        notice = Notice(**values)
        db.add(notice)
        db.flush()
    for channel in channels:
        db.add(
            NoticeDelivery(
                notice_id=notice.id,
                platform_id=person.platform_id,
                channel=channel.value,
                next_attempt_at=created,
                created_at=created,
            )
        )
    return notice


def notices_of(db: Session, person_id: int, limit: int = 100) -> list[Notice]:
    """The person's notices, newest first."""
    return list(
        db.scalars(
            select(Notice)
            .where(Notice.person_id == person_id)
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(limit)
        )
    )


def unread_count(db: Session, person_id: int) -> int:
    row = read_now(db, _unread_count_query(), {"person_id": person_id})
    return int(row[0] or 0) if row is not None else 0


@cache
def _unread_count_query() -> Any:
    """unread_count's statement, built once: the landing page of every launch shows the count."""
    return (
        select(func.count())
        .select_from(Notice)
        .where(Notice.person_id == bindparam("person_id"), Notice.read_at.is_(None))
    )


def mark_read(notice: Notice, now: datetime | None = None) -> None:
    if notice.read_at is None:
        notice.read_at = now or utcnow()


def mark_all_read(db: Session, person_id: int, now: datetime | None = None) -> int:
    result = db.execute(
        update(Notice)
        .where(Notice.person_id == person_id, Notice.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DeliveryStatus:
    pending: int
    delivered: int
    parked: int


def delivery_status(db: Session, platform_id: int) -> dict[str, DeliveryStatus]:
    """Per channel: how many deliveries of the platform wait, went out, are parked."""
    rows = db.execute(
        select(NoticeDelivery.channel, NoticeDelivery.state, func.count())
        .where(NoticeDelivery.platform_id == platform_id)
        .group_by(NoticeDelivery.channel, NoticeDelivery.state)
    )
    counts: dict[str, dict[str, int]] = {}
    for channel, state, count in rows:
        counts.setdefault(channel, {})[state] = int(count)
    return {
        channel.value: DeliveryStatus(
            counts.get(channel.value, {}).get(NoticeState.PENDING.value, 0)
            + counts.get(channel.value, {}).get(NoticeState.SENDING.value, 0),
            counts.get(channel.value, {}).get(NoticeState.DELIVERED.value, 0),
            counts.get(channel.value, {}).get(NoticeState.PARKED.value, 0),
        )
        for channel in Channel
    }


def parked(db: Session, platform_id: int, limit: int = 100) -> list[NoticeDelivery]:
    return list(
        db.scalars(
            select(NoticeDelivery)
            .where(NoticeDelivery.platform_id == platform_id, NoticeDelivery.state == NoticeState.PARKED.value)
            .order_by(NoticeDelivery.id.desc())
            .limit(limit)
        )
    )


def retrying(db: Session, platform_id: int, limit: int = 50) -> list[NoticeDelivery]:
    """Deliveries of the platform that wait after a failed attempt (the channel down, rate-limited, a token
    refused, the quota spent), soonest first: what an admin looks at when messages do not arrive."""
    return list(
        db.scalars(
            select(NoticeDelivery)
            .where(
                NoticeDelivery.platform_id == platform_id,
                NoticeDelivery.state == NoticeState.PENDING.value,
                NoticeDelivery.last_error.is_not(None),
            )
            .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id)
            .limit(limit)
        )
    )


def resend(db: Session, platform_id: int, delivery_id: int | None = None) -> int:
    """Queue parked deliveries of the platform (all, or one) again, due now."""
    query = update(NoticeDelivery).where(
        NoticeDelivery.platform_id == platform_id, NoticeDelivery.state == NoticeState.PARKED.value
    )
    if delivery_id is not None:
        query = query.where(NoticeDelivery.id == delivery_id)
    result = db.execute(
        query.values(state=NoticeState.PENDING.value, attempts=0, next_attempt_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
