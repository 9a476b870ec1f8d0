"""App sessions opened by a launch. Kept in the database so any web process can serve the next request.

A session may be tied to the browser that opened it: the browser's cookie holds a random browser key, the session
keeps its hash. Once the browser has shown that it keeps the cookie (`browser_bound_at`), a link naming the session
opens it only together with that cookie (lti_tool/web/session.py). Signing out ends the session (`ended_at`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, bindparam, exists, insert, select, update
from sqlalchemy.orm import (
    Mapped,
    Session,
    joinedload,
    make_transient_to_detached,
    mapped_column,
    query_expression,
    relationship,
    with_expression,
)

from models.base import Base, utcnow
from models.drafts import Draft
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
    # The validated launch claims, for the LTI services (AGS, NRPS) used later in the session. Read when asked for (Deep
    # Linking's answer), not with the session at every page: a launch's claims are a few kilobytes of JSON.
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, deferred=True)
    # The hash of the browser key its cookie carries (never the key itself), and when the browser was seen keeping it.
    browser_key_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    browser_bound_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # signed out
    # Whether this person had a draft in this course when find_session read the session (None: not asked); a page of
    # theirs reads drafts (lti_tool/web/drafts.py) only when they have one.
    has_drafts: Mapped[bool | None] = query_expression()

    person: Mapped[Person] = relationship()
    context: Mapped[Context] = relationship()
    membership: Mapped[Membership] = relationship()
    resource_link: Mapped[ResourceLink | None] = relationship()

    def opens_with(self, browser_key: str | None) -> bool:
        """May a request holding this browser key (or none) use the session? Always, until the browser has shown it
        keeps the session's cookie; from then on only with that cookie."""
        if self.browser_bound_at is None:
            return True
        return browser_key is not None and hash_browser_key(browser_key) == self.browser_key_hash


def new_browser_key() -> str:
    return secrets.token_urlsafe(32)


def hash_browser_key(browser_key: str) -> str:
    """The key is 256 random bits: a plain SHA-256 keeps a database reader from using it as a cookie."""
    return hashlib.sha256(browser_key.encode()).hexdigest()


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
        # The ids too, so that they can be read before the row is flushed.
        person_id=membership.person_id,
        context_id=membership.context_id,
        membership_id=membership.id,
        resource_link_id=resource_link.id if resource_link is not None else None,
        person=membership.person,
        context=membership.context,
        membership=membership,
        resource_link=resource_link,
        locale=locale,
        claims=claims,
        browser_key_hash=None,
        browser_bound_at=None,
        created_at=now,
        expires_at=now + ttl,
        ended_at=None,
    )
    db.add(app_session)
    return app_session


def write_session(db: Session, app_session: AppSession) -> None:
    """Write a new session's row now, by one INSERT built once, on the session's connection, instead of at the next
    flush: every launch opens one, and the unit of work costs more than the row. The session stays in `db` as if it
    had been read, its person, course, membership and link with it."""
    db.expunge(app_session)
    values = {key: getattr(app_session, key) for key in _COLUMNS}
    inserted = db.connection().execute(_insert_session(), values).inserted_primary_key
    assert inserted is not None
    app_session.id = inserted[0]
    for key, value in values.items():
        setattr(app_session, key, value)  # every column loaded: none is read again
    make_transient_to_detached(app_session)
    db.add(app_session)


@cache
def _insert_session() -> Any:
    return insert(AppSession)


_COLUMNS = tuple(column.key for column in AppSession.__table__.columns if column.key != "id")


def _live(now: Any) -> Any:
    return (AppSession.expires_at > now) & AppSession.ended_at.is_(None)


def find_session(db: Session, token: str) -> AppSession | None:
    """The live session with this token, read with its person, membership, course (and the course's platform) and
    resource link, which every page of the session shows, and whether the person has a draft in the course: one
    statement instead of one per row."""
    return db.scalars(_session_with_course(), {"token": token, "now": utcnow()}).first()


@cache
def _session_with_course() -> Any:
    """find_session's statement, built once (building it costs more than running it)."""
    return (
        select(AppSession)
        .where(AppSession.token == bindparam("token"), _live(bindparam("now")))
        .options(
            joinedload(AppSession.person),
            joinedload(AppSession.membership),
            joinedload(AppSession.context).joinedload(Context.platform),
            joinedload(AppSession.resource_link),
            with_expression(
                AppSession.has_drafts,
                exists().where(Draft.person_id == AppSession.person_id, Draft.context_id == AppSession.context_id),
            ),
        )
    )


def browser_sessions(db: Session, browser_key: str) -> Sequence[AppSession]:
    """The live sessions of the browser holding this key, the latest first."""
    return db.scalars(_of_browser(browser_key)).all()


def latest_browser_session(db: Session, browser_key: str) -> AppSession | None:
    """The live session the browser holding this key opened last: one row, however many launches it made today."""
    return db.scalars(_of_browser(browser_key).limit(1)).first()


def _of_browser(browser_key: str) -> Any:
    return (
        select(AppSession)
        .where(AppSession.browser_key_hash == hash_browser_key(browser_key), _live(utcnow()))
        .order_by(AppSession.created_at.desc(), AppSession.id.desc())
    )


def browser_key_for(db: Session, app_session: AppSession, cookie_key: str | None) -> str:
    """The browser key a new session is tied to: the browser's own, while every live session tied to it is this
    person's (one person, two courses, two tabs); a new one when another person launches in that browser (a shared
    computer), so the links in the history of the one before stop opening their sessions there."""
    if cookie_key:
        someone_else = exists().where(
            AppSession.browser_key_hash == hash_browser_key(cookie_key),
            _live(utcnow()),
            AppSession.person_id != app_session.person_id,
        )
        with db.no_autoflush:  # a new session not yet flushed is not among them, and is flushed with its browser
            if not db.scalar(select(someone_else)):
                return cookie_key
    return new_browser_key()


def tie_to_browser(app_session: AppSession, browser_key: str, kept: bool) -> None:
    """Tie the session to the browser key its cookie carries; `kept`: the browser is known to keep the cookie."""
    app_session.browser_key_hash = hash_browser_key(browser_key)
    if kept:
        app_session.browser_bound_at = utcnow()


def note_cookie_kept(app_session: AppSession, browser_key: str | None) -> None:
    """A request of the session came with its browser's cookie: from now on its links need that cookie."""
    if (
        app_session.browser_bound_at is None
        and browser_key is not None
        and app_session.browser_key_hash == hash_browser_key(browser_key)
    ):
        app_session.browser_bound_at = utcnow()


def end_sessions(db: Session, app_session: AppSession, browser_key: str | None) -> int:
    """Sign out: end this session and every live one of the same browser (its other tabs); how many ended."""
    now = utcnow()
    ids = {app_session.id}
    if browser_key is not None and app_session.browser_key_hash == hash_browser_key(browser_key):
        ids |= {s.id for s in browser_sessions(db, browser_key)}
    result = db.execute(
        update(AppSession)
        .where(AppSession.id.in_(ids), AppSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    app_session.ended_at = now
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
