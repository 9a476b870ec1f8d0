"""Who read what: each time someone opens another person's reflection, observation, logbook, certificate, progress
or evidence file, one row says who read whose record, which record, when and from which platform and course (the
district office is the data controller under Thailand's PDPA; its data protection officer answers "who has seen
my data?" from this log). A person reading their own record is not logged. Rows older than the log's own keeping
period are deleted by the retention run (`purge_read_log`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Row, Select, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from models.base import Base, utcnow
from models.calendar import THAI_TIME
from models.people import Context, Membership, Person


class ReadKind(StrEnum):
    """What was read; the record id of each is the id of its own table (a logbook's and a progress page's is the
    membership whose record it is)."""

    REFLECTION = "reflection"
    OBSERVATION = "observation"
    LOGBOOK = "logbook"
    CERTIFICATE = "certificate"
    PROGRESS = "progress"
    EVIDENCE = "evidence"
    RESULTS_REPORT = "results_report"  # the program's id: one row per member whose texts the report holds


class ReadLogEntry(Base):
    """One read of another person's record. People are kept by id: a name shows as the person's name now."""

    __tablename__ = "read_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="SET NULL"))
    reader_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    reader_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    subject_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    subject_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int]
    read_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def record_read(
    db: Session, reader: Membership, subject: Membership, kind: ReadKind, record_id: int, now: datetime
) -> ReadLogEntry | None:
    """Log that `reader` read `subject`'s record; None (nothing logged) when they read their own."""
    if reader.id == subject.id or reader.person_id == subject.person_id:
        return None
    entry = ReadLogEntry(
        platform_id=reader.context.platform_id,
        context_id=reader.context_id,
        reader_membership_id=reader.id,
        reader_person_id=reader.person_id,
        subject_membership_id=subject.id,
        subject_person_id=subject.person_id,
        kind=kind.value,
        record_id=record_id,
        read_at=now,
    )
    db.add(entry)
    db.flush()
    return entry


@dataclass(frozen=True)
class ReadSearch:
    """What an administrator looks for: part of the reader's or the person read's name, and Thai days (inclusive)."""

    reader: str = ""
    subject: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class ReadRow:
    entry: ReadLogEntry
    reader: str
    subject: str
    course: str


@dataclass(frozen=True)
class ReadPage:
    rows: list[ReadRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _thai_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), THAI_TIME)


def _searched(platform_id: int, search: ReadSearch) -> Select[ReadLogEntry, str, str, str]:
    """The platform's entries matching `search`, newest first, with the reader's, the subject's and the course's
    names; never another platform's."""
    reader, subject = aliased(Person), aliased(Person)
    statement = (
        select(ReadLogEntry, reader.name, subject.name, Context.title)
        .outerjoin(reader, reader.id == ReadLogEntry.reader_person_id)
        .outerjoin(subject, subject.id == ReadLogEntry.subject_person_id)
        .outerjoin(Context, Context.id == ReadLogEntry.context_id)
        .where(ReadLogEntry.platform_id == platform_id)
    )
    if search.reader:
        statement = statement.where(func.lower(reader.name).contains(search.reader.lower(), autoescape=True))
    if search.subject:
        statement = statement.where(func.lower(subject.name).contains(search.subject.lower(), autoescape=True))
    if search.since is not None:
        statement = statement.where(ReadLogEntry.read_at >= _thai_midnight(search.since))
    if search.until is not None:
        statement = statement.where(ReadLogEntry.read_at < _thai_midnight(search.until + timedelta(days=1)))
    return statement.order_by(ReadLogEntry.read_at.desc(), ReadLogEntry.id.desc())


def search_reads(db: Session, platform_id: int, search: ReadSearch, page: int = 1, per_page: int = 50) -> ReadPage:
    """One page of the platform's entries matching `search`."""
    statement = _searched(platform_id, search)
    total = db.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    found = db.execute(statement.limit(per_page).offset((page - 1) * per_page))
    return ReadPage([_row(row) for row in found], total, page, per_page)


def all_reads(db: Session, platform_id: int, search: ReadSearch) -> list[ReadRow]:
    """Every entry of the platform matching `search` (for the CSV export)."""
    return [_row(row) for row in db.execute(_searched(platform_id, search))]


def _row(row: Row[ReadLogEntry, str, str, str]) -> ReadRow:
    entry, reader, subject, course = row
    return ReadRow(entry, reader or "", subject or "", course or "")


def purge_read_log(db: Session, before: datetime, *, dry_run: bool = False) -> int:
    """Delete (or, with `dry_run`, count) the entries read before `before`; how many."""
    old = ReadLogEntry.read_at < before
    count = db.scalar(select(func.count()).select_from(ReadLogEntry).where(old)) or 0
    if count and not dry_run:
        db.execute(delete(ReadLogEntry).where(old))
    return count
