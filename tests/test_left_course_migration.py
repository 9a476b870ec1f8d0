"""Migration 0019 on both databases: a member already marked Inactive gets the day they became so, at the latest the
course's last roster read (or their last launch, for a course not read since); an active member gets none."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.database import Database
from models.migrate import upgrade
from models.people import INACTIVE, Membership
from tests.factories import make_course
from tests.test_agency_migration import database, downgrade_to

__all__ = ["database"]  # the fixture, on SQLite and PostgreSQL

READ_AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LAUNCHED_AT = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


def test_members_marked_inactive_before_get_the_time_of_the_roster_read_or_their_last_launch(
    database: Database,
) -> None:
    upgrade(database.engine)
    with Session(database.engine) as db, db.begin():
        read, unread = make_course(db, "read", teachers=2), make_course(db, "unread", teachers=2)
        read.trainer.context.roster_synced_at = READ_AT
        for course in (read, unread):
            course.teachers[0].status = INACTIVE
            course.teachers[0].last_launch_at = LAUNCHED_AT
        ids = [read.teachers[0].id, read.teachers[1].id, unread.teachers[0].id]
    downgrade_to(database, "0018")  # the revision before 0019

    upgrade(database.engine)

    with Session(database.engine) as db:
        since = dict(db.execute(select(Membership.id, Membership.inactive_since).where(Membership.id.in_(ids))).all())
    assert [since[i] for i in ids] == [READ_AT, None, LAUNCHED_AT]
