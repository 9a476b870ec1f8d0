"""Drafts: what a person typed into a form whose post could not be saved (their link had expired), kept for a week
so the next visit to that form fills it in again. Readable only by the person who typed it, in that course."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, and_, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base

DRAFT_LIFETIME = timedelta(days=7)
MAX_FIELD_CHARS = 20_000  # more than any form field of ours holds, so nothing a form accepts is cut
MAX_FIELDS = 60
MAX_VALUES_PER_FIELD = 60
MAX_PATH = 300
# Fields that are never kept: the form token, the session link token, and anything that looks like a secret.
NEVER_KEPT = frozenset({"csrf", "s", "lang"})
SECRET_HINTS = ("password", "passwd", "secret", "token")

DraftFields = dict[str, list[str]]


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("person_id", "context_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    # The path the form posts to (no query string: that carries the session link token).
    path: Mapped[str] = mapped_column(String(MAX_PATH))
    fields: Mapped[DraftFields] = mapped_column(JSON, default=dict)
    # Files attached to the post are never kept; the page says so when it restores the text.
    files_dropped: Mapped[bool] = mapped_column(default=False)
    saved_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)


def keepable(name: str) -> bool:
    """A field worth keeping: not a token, not a secret."""
    lowered = name.lower()
    return bool(name) and lowered not in NEVER_KEPT and not any(hint in lowered for hint in SECRET_HINTS)


def draft_fields(items: Iterable[tuple[str, str]]) -> DraftFields:
    """The typed fields of a post, as a draft keeps them: no tokens or secrets, at most MAX_FIELDS fields of at most
    MAX_VALUES_PER_FIELD values, each value cut at MAX_FIELD_CHARS, so a draft cannot be used as storage."""
    kept: DraftFields = {}
    for name, value in items:
        if not keepable(name) or len(name) > 100:
            continue
        values = kept.get(name)
        if values is None:
            if len(kept) >= MAX_FIELDS:
                continue
            values = kept[name] = []
        if len(values) < MAX_VALUES_PER_FIELD:
            values.append(value[:MAX_FIELD_CHARS])
    return kept


def worth_keeping(fields: DraftFields) -> bool:
    """A draft is kept only when something was typed: a post of empty or default fields is not worth a row."""
    return any(value.strip() for values in fields.values() for value in values)


def purge_expired(db: Session, now: datetime, *, dry_run: bool = False) -> int:
    """Delete (or, with `dry_run`, count) everybody's drafts past their week: when a draft is kept, when a person's
    drafts are read, and in the daily retention run (a person without drafts reads none); how many."""
    expired = Draft.expires_at <= now
    if dry_run:
        return db.scalar(select(func.count()).select_from(Draft).where(expired)) or 0
    return int(getattr(db.execute(delete(Draft).where(expired)), "rowcount", 0) or 0)


def keep_draft(
    db: Session, person_id: int, context_id: int, path: str, fields: DraftFields, files_dropped: bool, now: datetime
) -> Draft | None:
    """Keep (or replace) this person's one draft for this form; None when the post held nothing worth keeping."""
    purge_expired(db, now)
    if not worth_keeping(fields) or len(path) > MAX_PATH:
        return None
    draft = db.scalars(
        select(Draft).where(Draft.person_id == person_id, Draft.context_id == context_id, Draft.path == path)
    ).one_or_none()
    if draft is None:
        draft = Draft(person_id=person_id, context_id=context_id, path=path)
        db.add(draft)
    draft.fields = fields
    draft.files_dropped = files_dropped
    draft.saved_at = now
    draft.expires_at = now + DRAFT_LIFETIME
    db.flush()
    return draft


def drafts_of(db: Session, person_id: int, context_id: int, now: datetime) -> list[Draft]:
    """This person's drafts in this course that are younger than a week; older ones are removed on the way.

    One read on every page with a form: this person's drafts, and one expired draft of anybody's if there is any;
    only then are the expired ones deleted (a page's read takes no write lock on SQLite)."""
    any_expired = select(Draft.id).where(Draft.expires_at <= now).limit(1).scalar_subquery()
    rows = db.scalars(
        select(Draft)
        .where(or_(and_(Draft.person_id == person_id, Draft.context_id == context_id), Draft.id == any_expired))
        .order_by(Draft.path)
    ).all()
    if any(row.expires_at <= now for row in rows):
        purge_expired(db, now)
    return [row for row in rows if row.expires_at > now and row.person_id == person_id and row.context_id == context_id]


def discard_draft(db: Session, person_id: int, context_id: int, path: str) -> bool:
    """Remove this person's draft for this form (it was saved, or they threw it away); True when there was one."""
    result = db.execute(
        delete(Draft).where(Draft.person_id == person_id, Draft.context_id == context_id, Draft.path == path)
    )
    return bool(getattr(result, "rowcount", 0))
