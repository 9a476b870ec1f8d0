"""App sessions opened by a launch. Kept in the database so any web process can serve the next request."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.people import Context, Membership, Person, ResourceLink


class AppSession(Base):
    __tablename__ = "app_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    resource_link_id: Mapped[int | None] = mapped_column(ForeignKey("resource_links.id", ondelete="SET NULL"))
    locale: Mapped[str | None] = mapped_column(String(35), default=None)
    # The validated launch claims, for the LTI services (AGS, NRPS) used later in the session.
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    person: Mapped[Person] = relationship()
    context: Mapped[Context] = relationship()
    membership: Mapped[Membership] = relationship()
    resource_link: Mapped[ResourceLink | None] = relationship()


def open_session(
    db: Session,
    membership: Membership,
    resource_link: ResourceLink | None,
    locale: str | None,
    claims: dict[str, Any],
    ttl: timedelta,
) -> AppSession:
    now = utcnow()
    app_session = AppSession(
        token=secrets.token_urlsafe(32),
        person=membership.person,
        context=membership.context,
        membership=membership,
        resource_link=resource_link,
        locale=locale,
        claims=claims,
        created_at=now,
        expires_at=now + ttl,
    )
    db.add(app_session)
    return app_session


def find_session(db: Session, token: str) -> AppSession | None:
    return db.scalars(select(AppSession).where(AppSession.token == token, AppSession.expires_at > utcnow())).first()
