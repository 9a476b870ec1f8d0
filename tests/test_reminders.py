"""The scheduler's reminders on SQLite and PostgreSQL: each once per person, kind and subject (another run, a restart
or a second scheduler at the same moment writes nothing more), never in the quiet hours, to the right people."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.services.reminders import RUN_LOCK, threshold, write_due_reminders
from models.calendar import THAI_TIME
from models.cycles import open_cycle
from models.database import Database
from models.forms import FormEntry
from models.notices import Kind, Notice
from models.people import INACTIVE, Membership
from models.programs import Program
from models.reflections import submit_reflection
from models.states import ProgramState
from models.windows import program_year
from tests.conftest import delete_test_data
from tests.factories import NOW, TODAY, buddy_and_model, make_course, program_in, record, running


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), THAI_TIME).astimezone(UTC)


def kinds(db: Session) -> list[tuple[str, int | None]]:
    rows = db.execute(select(Notice.kind, Notice.membership_id).order_by(Notice.id)).all()
    return [(kind, membership_id) for kind, membership_id in rows]


def last_day(program: Program) -> date:
    year = program_year(program, TODAY)
    assert year is not None
    return year.last_day


def test_the_nearest_threshold_is_chosen() -> None:
    assert [threshold(d, (30, 7)) for d in (31, 30, 25, 8, 7, 0, -1)] == [None, 30, 30, 30, 7, 7, None]


def test_the_year_ending_reminds_trainers_and_members_once_per_threshold(db: Session) -> None:
    course = make_course(db, "r-" + uuid.uuid4().hex[:6])
    program, team = running(db, course)
    end = last_day(program)

    people = {course.trainer.id, *team.member_ids}

    written = []
    for days in (25, 24, 5):  # the 30 days' reminder; the next day (or a restart); the 7 days' reminder
        write_due_reminders(db, at(end - timedelta(days=days), hour=7))  # before the trainers' digest
        written.append(sum(1 for k, _ in kinds(db) if k == Kind.YEAR_ENDING))

    assert written == [len(people), len(people), 2 * len(people)]
    year = [m for k, m in kinds(db) if k == Kind.YEAR_ENDING]
    assert sorted(m for m in year if m is not None) == sorted([*people, *people])


def test_nothing_is_written_in_the_quiet_hours(db: Session) -> None:
    course = make_course(db, "r-" + uuid.uuid4().hex[:6])
    program, _team = running(db, course)
    end = last_day(program)

    report = write_due_reminders(db, at(end - timedelta(days=25), hour=21))

    assert report.skipped_quiet and report.written == 0 and kinds(db) == []
    assert write_due_reminders(db, at(end - timedelta(days=24), hour=6, minute=59)).written == 0


def test_a_buddy_whose_observation_is_missing_after_the_lesson_date_is_reminded_once(db: Session) -> None:
    course = make_course(db, "r-" + uuid.uuid4().hex[:6])
    _program, team = running(db, course)
    buddy, model, buddies = buddy_and_model(team)
    cycle = open_cycle(db, team, 1, TODAY)
    db.add(
        FormEntry(cycle=cycle, form="problem-reflection", answers={"lesson_date": "2026-07-03"}, updated_by_id=model)
    )
    db.flush()

    def missing() -> list[int | None]:
        return [m for k, m in kinds(db) if k == Kind.OBSERVATION_MISSING]

    write_due_reminders(db, at(date(2026, 7, 3)))  # the lesson's own day: not missing yet
    assert missing() == []
    write_due_reminders(db, at(date(2026, 7, 4)))
    write_due_reminders(db, at(date(2026, 7, 5)))

    assert sorted(m for m in missing() if m is not None) == sorted(buddies) and model not in missing()
    assert buddy in missing()


def test_the_certificates_window_reminds_trainers_at_ten_and_three_days(db: Session) -> None:
    course = make_course(db, "r-" + uuid.uuid4().hex[:6])
    program = program_in(db, course, ProgramState.ENDED)
    assert program.ended_on is not None
    last = program.ended_on + timedelta(days=30)

    for days in (8, 7, 2):
        write_due_reminders(db, at(last - timedelta(days=days)))

    window = [m for k, m in kinds(db) if k == Kind.CERTIFICATE_WINDOW_ENDING]
    assert window == [course.trainer.id, course.trainer.id]


def test_the_trainers_digest_comes_from_seven_thirty_once_a_day(db: Session) -> None:
    course = make_course(db, "r-" + uuid.uuid4().hex[:6])
    _program, team = running(db, course)
    submit_reflection(db, team, 1, team.member_ids[0], "สะท้อนคิด (synthetic)", NOW)
    db.flush()

    write_due_reminders(db, at(date(2026, 7, 6), hour=7, minute=15))
    assert [k for k, _ in kinds(db)].count(Kind.TRAINER_DIGEST) == 0
    write_due_reminders(db, at(date(2026, 7, 6), hour=7, minute=30))
    write_due_reminders(db, at(date(2026, 7, 6), hour=15))
    write_due_reminders(db, at(date(2026, 7, 7), hour=8))

    digests = db.scalars(select(Notice).where(Notice.kind == Kind.TRAINER_DIGEST).order_by(Notice.id)).all()
    assert [n.membership_id for n in digests] == [course.trainer.id, course.trainer.id]
    assert digests[0].params["waiting"] == 1


def test_two_schedulers_at_the_same_moment_write_each_reminder_once(rules_database: Database) -> None:
    with rules_database.transaction() as db:
        course = make_course(db, "r-" + uuid.uuid4().hex[:6])
        program, team = running(db, course)
        moment = at(last_day(program) - timedelta(days=20))
        expected = 1 + len(team.member_ids)
    # SQLite takes one writer at a time (the embedded default runs one scheduler): there they run one after the other.
    at_once = rules_database.engine.dialect.name == "postgresql"
    start = threading.Barrier(2 if at_once else 1)
    reports: list[int] = []

    def scheduler() -> None:
        start.wait()
        with rules_database.transaction() as db:
            reports.append(write_due_reminders(db, moment).written)

    try:
        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
            if not at_once:
                thread.join(60)
        for thread in threads:
            thread.join(60)
        with rules_database.transaction() as db:
            count = db.scalar(select(func.count()).select_from(Notice).where(Notice.kind == Kind.YEAR_ENDING))
        assert count == expected and sum(reports) >= expected
    finally:
        delete_test_data(rules_database)


def test_a_team_hears_weekly_which_elements_of_its_cycle_are_not_recorded(db: Session) -> None:
    course = make_course(db, "r-" + uuid.uuid4().hex[:6])
    _program, team = running(db, course)
    record(db, team, 1)
    record(db, team, 2)
    monday = date(2026, 7, 6)

    for day in (monday, monday + timedelta(days=3), monday + timedelta(days=7)):
        write_due_reminders(db, at(day, hour=7))  # before the trainers' digest

    weekly = db.scalars(select(Notice).where(Notice.kind == Kind.ELEMENTS_NOT_RECORDED).order_by(Notice.id)).all()
    assert sorted(n.membership_id for n in weekly) == sorted(team.member_ids * 2)  # this week and the next
    assert {n.params["count"] for n in weekly} == {3} and {n.params["cycle"] for n in weekly} == {1}


def test_no_reminder_to_a_member_who_left_the_course_or_was_erased(db: Session) -> None:
    course = make_course(db, "r-" + uuid.uuid4().hex[:6])
    program, team = running(db, course)
    end = last_day(program)
    left, erased, *staying = team.member_ids
    gone = db.get(Membership, left)
    wiped = db.get(Membership, erased)
    assert gone is not None and wiped is not None
    gone.status = INACTIVE
    wiped.person.erased_at = NOW
    db.flush()

    for days in (25, 24):  # the second run writes nothing more: no once-key of theirs to stop it either
        write_due_reminders(db, at(end - timedelta(days=days), hour=7))

    year = [m for k, m in kinds(db) if k == Kind.YEAR_ENDING]
    assert sorted(year) == sorted([course.trainer.id, *staying])


def test_a_second_scheduler_skips_its_run_while_the_first_one_writes(rules_database: Database) -> None:
    if rules_database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time: there is no second run meanwhile")
    try:
        with rules_database.transaction() as db:
            course = make_course(db, "r-" + uuid.uuid4().hex[:6])
            program, _team = running(db, course)
            moment = at(last_day(program) - timedelta(days=20))
        with rules_database.transaction() as first:
            first.execute(select(func.pg_advisory_xact_lock(RUN_LOCK)))  # the first scheduler's run, under way
            with rules_database.transaction() as second:
                report = write_due_reminders(second, moment)
        assert report.busy and report.written == 0
        with rules_database.transaction() as db:
            assert write_due_reminders(db, moment).written > 0  # the lock went with the first one's transaction
    finally:
        delete_test_data(rules_database)
