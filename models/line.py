"""A district's LINE Official Account (one per platform: its Messaging API channel), the people who linked their LINE
account to it, the one-time codes they link with, and the webhook events already taken (a replay is refused).

The LINE user id is personal data: it goes when the person unlinks (from the tool or by sending "เลิกแจ้งเตือน")
and when their data is erased.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow

CODE_LIFETIME = timedelta(minutes=30)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen and typed into LINE
CODE_LENGTH = 8
UNLINK_WORD = "เลิกแจ้งเตือน"


class LineChannel(Base):
    """The platform's LINE Official Account: off until both the channel access token and the secret are set."""

    __tablename__ = "line_channels"

    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    channel_secret: Mapped[str] = mapped_column(String(128), default="")
    basic_id: Mapped[str] = mapped_column(String(64), default="")  # "@abc1234": the add-friend link and QR
    # The month's message quota ran out (LINE answered 429 "monthly limit"): LINE messages wait, the list has them.
    quota_spent_at: Mapped[datetime | None] = mapped_column(default=None)
    quota_reason: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_on(self) -> bool:
        return bool(self.access_token and self.channel_secret)

    @property
    def add_friend_url(self) -> str | None:
        return f"https://line.me/R/ti/p/{self.basic_id}" if self.basic_id else None


class LineLink(Base):
    """A person's LINE account, linked by a code they sent to the platform's account."""

    __tablename__ = "line_links"
    __table_args__ = (UniqueConstraint("platform_id", "line_user_id"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    line_user_id: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    blocked_at: Mapped[datetime | None] = mapped_column(default=None)  # LINE's `unfollow` event: they blocked us


class LineLinkCode(Base):
    """A one-time code shown on the person's linking page, sent by them to the account to link."""

    __tablename__ = "line_link_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column()


class LineWebhookEvent(Base):
    """A webhook event taken (its `webhookEventId`): the same event again is a replay or a redelivery, not acted on."""

    __tablename__ = "line_webhook_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


def channel_of(db: Session, platform_id: int) -> LineChannel | None:
    return db.get(LineChannel, platform_id)


def link_of(db: Session, person_id: int) -> LineLink | None:
    return db.get(LineLink, person_id)


def new_code(db: Session, person_id: int, platform_id: int, now: datetime | None = None) -> LineLinkCode:
    """A fresh one-time code for the person (their earlier ones stop working)."""
    moment = now or utcnow()
    db.execute(delete(LineLinkCode).where(LineLinkCode.person_id == person_id))
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    row = LineLinkCode(code=code, person_id=person_id, platform_id=platform_id, expires_at=moment + CODE_LIFETIME)
    db.add(row)
    return row


def live_code(db: Session, person_id: int, now: datetime | None = None) -> LineLinkCode | None:
    """The person's one-time code still valid at `now`, if any (the one their page shows, reused until it expires)."""
    return db.scalars(
        select(LineLinkCode)
        .where(LineLinkCode.person_id == person_id, LineLinkCode.expires_at > (now or utcnow()))
        .order_by(LineLinkCode.expires_at.desc())
        .limit(1)
    ).first()


def take_code(db: Session, platform_id: int, text: str, now: datetime | None = None) -> int | None:
    """The person whose live code of this platform `text` is (used up now), or None."""
    code = text.strip().upper().replace(" ", "")
    if not code or len(code) > 16:
        return None
    row = db.scalars(
        select(LineLinkCode).where(LineLinkCode.code == code, LineLinkCode.platform_id == platform_id)
    ).one_or_none()
    if row is None:
        return None
    db.delete(row)
    if row.expires_at < (now or utcnow()):
        return None
    return row.person_id


def link(db: Session, person_id: int, platform_id: int, line_user_id: str, now: datetime | None = None) -> LineLink:
    """Link the LINE account to the person; the same LINE account linked to someone else before is moved."""
    db.execute(
        delete(LineLink).where(
            LineLink.platform_id == platform_id, LineLink.line_user_id == line_user_id, LineLink.person_id != person_id
        )
    )
    row = db.get(LineLink, person_id)
    if row is None:
        row = LineLink(person_id=person_id, platform_id=platform_id, line_user_id=line_user_id)
        db.add(row)
    row.line_user_id, row.linked_at, row.blocked_at = line_user_id, now or utcnow(), None
    return row


def unlink_person(db: Session, person_id: int) -> bool:
    """Remove the person's LINE user id and codes; True when there was a link."""
    db.execute(delete(LineLinkCode).where(LineLinkCode.person_id == person_id))
    return bool(db.execute(delete(LineLink).where(LineLink.person_id == person_id)).rowcount)  # type: ignore[attr-defined]


def person_linked_as(db: Session, platform_id: int, line_user_id: str) -> int | None:
    return db.scalar(
        select(LineLink.person_id).where(LineLink.platform_id == platform_id, LineLink.line_user_id == line_user_id)
    )
