"""The nonces of OIDC logins that launched: each id_token's nonce is spent once (Security §5.1.3 step 9).

A login writes nothing (its state is signed by the tool: lti_tool/lti/login_state.py); the launch that completes it
spends its nonce here, by one INSERT that a second launch with the same nonce cannot repeat. A row is kept an hour
after its login's state expired: the state itself is refused by then, even if the time a state lasts is raised to
its most (an hour, lti_tool/settings.py), and the row can go.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, String, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow


class SpentNonce(Base):
    """The nonce of a login whose launch was accepted, kept while its state could still be posted."""

    __tablename__ = "spent_nonces"

    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    platform_id: Mapped[int] = mapped_column()  # the login's platform, for a reader; no key: a platform may go
    spent_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the login's state expires; the row is purged an hour after it.
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RetiredLoginRequest(Base):
    """The table where logins were stored before their state was signed (migration 0034). Nothing reads or writes it;
    it stays until a later release drops it, because a migration only adds (old processes serve during an upgrade)."""

    __tablename__ = "login_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(128), unique=True)
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    target_link_uri: Mapped[str] = mapped_column(String(2048))
    storage_target: Mapped[str | None] = mapped_column(String(255), default=None)
    browser_binding: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


def spend_nonce(db: Session, nonce: str, platform_id: int, expires_at: datetime) -> bool:
    """Spend the nonce; False if it was spent before (a replay), by this launch's transaction or another committed
    one. On PostgreSQL a concurrent launch with the same nonce waits for the first to end, then finds it spent."""
    values = {"nonce": nonce, "platform_id": platform_id, "spent_at": utcnow(), "expires_at": expires_at}
    # RETURNING says whether the row went in (psycopg leaves an INSERT's rowcount at -1 here).
    return db.connection().execute(_spend_statement(db.get_bind().dialect.name), values).first() is not None


def purge_expired(db: Session, older_than: timedelta = timedelta(hours=1)) -> int:
    """Forget the nonces whose states expired more than `older_than` ago (a state is refused after at most an hour:
    lti_tool/settings.py), and the logins stored before migration 0034 or by a process older than it, a day after
    they expired (they keep a browser's fingerprint)."""
    now = utcnow()
    result = db.execute(delete(SpentNonce).where(SpentNonce.expires_at < now - older_than))
    retired = db.execute(delete(RetiredLoginRequest).where(RetiredLoginRequest.expires_at < now - timedelta(days=1)))
    return int(result.rowcount or 0) + int(retired.rowcount or 0)  # type: ignore[attr-defined]


# Every launch spends a nonce: the statement is built once per dialect, as INSERT … ON CONFLICT DO NOTHING.
@cache
def _spend_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = ("nonce", "platform_id", "spent_at", "expires_at")
    statement = insert(SpentNonce).values({name: bindparam(name) for name in columns})
    return statement.on_conflict_do_nothing(index_elements=["nonce"]).returning(SpentNonce.nonce)
