"""A course roster applied to memberships (models/roster.py): who is missing from a complete read has left the course
with the time, kept with their rows; listed again, they are back. On SQLite and PostgreSQL; people are synthetic."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from models.people import ACTIVE, INACTIVE, Membership
from models.roster import RosterMember, sync_roster
from tests.factories import NOW, Course

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
MENTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
EARLIER = NOW - timedelta(days=30)


def listed(course: Course, *missing: Membership, status: dict[str, str] | None = None) -> list[RosterMember]:
    """The course's roster as the LMS lists it, without `missing`."""
    everyone = [course.trainer, *course.teachers]
    return [
        RosterMember(
            m.person.sub,
            (INSTRUCTOR,) if m is course.trainer else (LEARNER,),
            (status or {}).get(m.person.sub, ACTIVE),
        )
        for m in everyone
        if m not in missing
    ]


def launched_before(db: Session, course: Course) -> None:
    for membership in (course.trainer, course.admin, *course.teachers):
        membership.last_launch_at = EARLIER
    db.flush()


def test_a_member_missing_from_a_complete_roster_has_left_the_course_from_that_time(
    db: Session, course: Course
) -> None:
    launched_before(db, course)
    gone = course.teachers[2]

    change = sync_roster(db, course.trainer.context, listed(course, gone, course.admin), NOW)
    db.refresh(gone)

    assert (gone.status, gone.inactive_since, gone.is_active) == (INACTIVE, NOW, False)
    assert gone.left_on is not None and change.left == 2  # the admin, who was not listed either
    assert all(t.is_active and t.inactive_since is None for t in course.teachers if t is not gone)
    assert db.get(Membership, gone.id) is not None  # kept, with everything that hangs on it


def test_a_member_who_left_keeps_the_day_they_left_at_later_reads(db: Session, course: Course) -> None:
    launched_before(db, course)
    gone = course.teachers[0]
    sync_roster(db, course.trainer.context, listed(course, gone), EARLIER + timedelta(days=1))

    sync_roster(db, course.trainer.context, listed(course, gone), NOW)
    db.refresh(gone)

    assert gone.inactive_since == EARLIER + timedelta(days=1)


def test_a_member_listed_again_is_active_again(db: Session, course: Course) -> None:
    launched_before(db, course)
    back = course.teachers[1]
    sync_roster(db, course.trainer.context, listed(course, back), EARLIER + timedelta(days=1))

    change = sync_roster(db, course.trainer.context, listed(course), NOW)
    db.refresh(back)

    assert (back.status, back.inactive_since, change.returned) == (ACTIVE, None, 1)


def test_a_member_listed_as_inactive_gets_the_time_once(db: Session, course: Course) -> None:
    launched_before(db, course)
    away = course.teachers[3]
    first = EARLIER + timedelta(days=2)
    sync_roster(db, course.trainer.context, listed(course, status={away.person.sub: INACTIVE}), first)
    sync_roster(db, course.trainer.context, listed(course, status={away.person.sub: INACTIVE}), NOW)
    db.refresh(away)

    assert (away.status, away.inactive_since) == (INACTIVE, first)


def test_someone_who_launched_after_the_read_began_is_not_taken_for_gone(db: Session, course: Course) -> None:
    launched_before(db, course)
    newcomer = course.teachers[4]
    newcomer.last_launch_at = NOW - timedelta(seconds=1)  # their first launch, while the roster was being read
    db.flush()

    sync_roster(db, course.trainer.context, listed(course, newcomer), NOW, read_from=NOW - timedelta(seconds=5))
    db.refresh(newcomer)

    assert newcomer.is_active


def test_a_member_listed_under_a_role_we_do_not_map_is_still_in_the_course(db: Session, course: Course) -> None:
    launched_before(db, course)
    mentor = course.teachers[5]
    roster = [m for m in listed(course) if m.user_id != mentor.person.sub]
    roster.append(RosterMember(mentor.person.sub, (MENTOR,)))

    change = sync_roster(db, course.trainer.context, roster, NOW)
    db.refresh(mentor)

    assert mentor.is_active and change.skipped_roles == 1
