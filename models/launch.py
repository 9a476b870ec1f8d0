"""OIDC login requests: the state and nonce the tool issued, each usable once before it expires."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ForeignKey, String, bindparam, delete, insert, select, update
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from models.base import Base, utcnow
from models.platform import Platform


class LoginRequest(Base):
    """One OIDC third-party-initiated login: the `state` we sent, the `nonce` the id_token must carry."""

    __tablename__ = "login_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(128), unique=True)
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    target_link_uri: Mapped[str] = mapped_column(String(2048))
    # Set when the platform offered LTI platform storage (postMessage) at login.
    storage_target: Mapped[str | None] = mapped_column(String(255), default=None)
    # A keyed hash of what the browser sent at login (lti_tool/lti/launch.py `browser_fingerprint`), checked at a
    # launch that no cookie or platform storage binds to the browser; None when the tool is set not to keep one.
    browser_binding: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    platform: Mapped[Platform] = relationship()


def new_login_request(
    db: Session,
    platform_id: int,
    target_link_uri: str,
    ttl: timedelta,
    storage_target: str | None = None,
    browser_binding: str | None = None,
) -> LoginRequest:
    """A new login's row, written at once by one INSERT built once on the session's connection (every login writes
    one: the unit of work costs more than the row); the row returned is not kept in `db`."""
    now = utcnow()
    values = {
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "platform_id": platform_id,
        "target_link_uri": target_link_uri,
        "storage_target": storage_target,
        "browser_binding": browser_binding,
        "created_at": now,
        "expires_at": now + ttl,
        "used_at": None,
    }
    db.connection().execute(_insert_login(), values)
    return LoginRequest(**values)


def find_login_request(db: Session, state: str, with_platform: bool = False) -> LoginRequest | None:
    """The login with this state; `with_platform`: its platform is read by the same statement (`login.platform`, and
    `db.get(Platform, login.platform_id)` then finds it without another)."""
    return db.scalars(_login_query(with_platform), {"state": state}).first()


def use_nonce(db: Session, login: LoginRequest) -> bool:
    """Mark the login's nonce used; False if another request used it first (a replay)."""
    # Core on the session's connection: nothing the session holds is of this row (synchronize_session=False).
    result = db.connection().execute(_use_nonce_statement(), {"login_id": login.id, "now": utcnow()})
    return bool(result.rowcount == 1)


# Every login writes one and every launch finds it and spends its nonce: their statements are built once.
@cache
def _insert_login() -> Any:
    return insert(LoginRequest)


@cache
def _login_query(with_platform: bool) -> Any:
    query = select(LoginRequest).where(LoginRequest.state == bindparam("state"))
    return query.options(joinedload(LoginRequest.platform).undefer(Platform.key_set_cache)) if with_platform else query


@cache
def _use_nonce_statement() -> Any:
    return (
        update(LoginRequest)
        .where(LoginRequest.id == bindparam("login_id"), LoginRequest.used_at.is_(None))
        .values(used_at=bindparam("now"))
        .execution_options(synchronize_session=False)
    )


def purge_expired(db: Session, older_than: timedelta = timedelta(days=1)) -> int:
    result = db.execute(delete(LoginRequest).where(LoginRequest.expires_at < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
