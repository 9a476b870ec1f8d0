"""The read log's rules on SQLite and PostgreSQL: one's own record is not logged, another's is; a platform's search
holds only its own entries; old entries are purged (a dry run only counts them)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.read_log import ReadKind, ReadLogEntry, ReadSearch, purge_read_log, record_read, search_reads
from tests.factories import NOW, Course


def test_reading_ones_own_record_is_not_logged(db: Session, course: Course) -> None:
    teacher = course.teachers[0]

    assert record_read(db, teacher, teacher, ReadKind.REFLECTION, 1, NOW) is None
    assert db.scalar(select(func.count()).select_from(ReadLogEntry)) == 0


def test_reading_anothers_record_is_logged_with_who_whose_what_when_and_where(db: Session, course: Course) -> None:
    entry = record_read(db, course.trainer, course.teachers[0], ReadKind.OBSERVATION, 7, NOW)

    assert entry is not None and entry.id is not None
    assert (entry.reader_person_id, entry.subject_person_id) == (course.trainer.person_id, course.teachers[0].person_id)
    assert (entry.kind, entry.record_id, entry.read_at) == ("observation", 7, NOW)
    assert (entry.platform_id, entry.context_id) == (course.scope.platform_id, course.scope.context_id)


def test_a_platforms_search_never_holds_another_platforms_entries(
    db: Session, course: Course, other_course: Course
) -> None:
    record_read(db, course.trainer, course.teachers[0], ReadKind.REFLECTION, 1, NOW)
    record_read(db, other_course.trainer, other_course.teachers[0], ReadKind.REFLECTION, 2, NOW)

    found = search_reads(db, course.scope.platform_id, ReadSearch())
    by_name = search_reads(db, course.scope.platform_id, ReadSearch(reader="TRAINER", subject="teacher-1"))

    assert [row.entry.record_id for row in found.rows] == [1] and found.total == 1
    assert [(row.reader, row.subject) for row in by_name.rows] == [("trainer", "teacher-1")]


def test_the_days_searched_are_thai_days_inclusive(db: Session, course: Course) -> None:
    record_read(db, course.trainer, course.teachers[0], ReadKind.REFLECTION, 1, NOW)  # 1 July 2026, 10:00 Bangkok
    platform = course.scope.platform_id

    def total(since: date | None, until: date | None) -> int:
        return search_reads(db, platform, ReadSearch(since=since, until=until)).total

    assert total(date(2026, 7, 1), date(2026, 7, 1)) == 1
    assert total(date(2026, 7, 2), None) == 0 and total(None, date(2026, 6, 30)) == 0


def test_the_search_is_paged_newest_first(db: Session, course: Course) -> None:
    for n in range(5):
        record_read(db, course.trainer, course.teachers[0], ReadKind.LOGBOOK, n, NOW + timedelta(minutes=n))

    first = search_reads(db, course.scope.platform_id, ReadSearch(), page=1, per_page=2)
    last = search_reads(db, course.scope.platform_id, ReadSearch(), page=3, per_page=2)

    assert (first.total, first.pages) == (5, 3) and [r.entry.record_id for r in first.rows] == [4, 3]
    assert [r.entry.record_id for r in last.rows] == [0]


def test_old_entries_are_purged_and_a_dry_run_only_counts_them(db: Session, course: Course) -> None:
    record_read(db, course.trainer, course.teachers[0], ReadKind.REFLECTION, 1, NOW - timedelta(days=800))
    record_read(db, course.trainer, course.teachers[0], ReadKind.REFLECTION, 2, NOW)

    assert purge_read_log(db, NOW - timedelta(days=730), dry_run=True) == 1
    assert db.scalar(select(func.count()).select_from(ReadLogEntry)) == 2
    assert purge_read_log(db, NOW - timedelta(days=730)) == 1
    assert list(db.scalars(select(ReadLogEntry.record_id))) == [2]
