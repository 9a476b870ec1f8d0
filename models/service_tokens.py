"""Access tokens for a platform's LTI Advantage services (AGS, NRPS), cached per platform and scope set.

They live in the database so that every web process and worker shares them: one token request per platform and
scope set while the token lives (1EdTech Security §4.1), whichever process asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow

# A token this close to its expiry is not handed out: the request it is for must still find it valid.
EXPIRY_MARGIN = timedelta(seconds=30)
_EXPIRED = datetime(2000, 1, 1, tzinfo=UTC)


class ServiceToken(Base):
    __tablename__ = "service_tokens"
    __table_args__ = (UniqueConstraint("platform_id", "scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    # The scopes asked for, sorted and space-separated: the cache key.
    scope_key: Mapped[str] = mapped_column(String(1024))
    access_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


def scope_key(scopes: Iterable[str]) -> str:
    return " ".join(sorted(set(scopes)))


def cached_token(db: Session, platform_id: int, scopes: Iterable[str], now: datetime | None = None) -> str | None:
    """The stored token for this platform and scope set, if it is still valid for a while."""
    row = db.scalars(
        select(ServiceToken).where(ServiceToken.platform_id == platform_id, ServiceToken.scope_key == scope_key(scopes))
    ).first()
    return row.access_token if row is not None and is_valid(row, now) else None


def is_valid(row: ServiceToken, now: datetime | None = None) -> bool:
    return bool(row.access_token) and row.expires_at - EXPIRY_MARGIN > (now or utcnow())


def lock_token(db: Session, platform_id: int, scopes: Iterable[str]) -> ServiceToken:
    """The cache row of this platform and scope set, locked until the transaction ends (made empty if missing).

    A process that finds no valid token holds this lock while it asks the platform for one; the others wait for it
    and then find the fresh token instead of asking again (on PostgreSQL; SQLite has one writer anyway)."""
    key = scope_key(scopes)
    query = (
        select(ServiceToken)
        .where(ServiceToken.platform_id == platform_id, ServiceToken.scope_key == key)
        .with_for_update()
    )
    row = db.scalars(query).first()
    if row is None:
        try:
            with db.begin_nested():
                db.add(ServiceToken(platform_id=platform_id, scope_key=key, access_token="", expires_at=_EXPIRED))
        except IntegrityError:
            pass
        row = db.scalars(query).one()
    return row


def forget_token(db: Session, platform_id: int, access_token: str) -> None:
    """The platform answered 401 to this token: drop it so the next call asks for a new one."""
    db.execute(
        delete(ServiceToken).where(ServiceToken.platform_id == platform_id, ServiceToken.access_token == access_token)
    )
