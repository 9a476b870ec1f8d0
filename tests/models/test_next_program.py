"""The submission day and programs of several years, on SQLite and PostgreSQL: the application is sent on a day that
has come and not before the program was set up (so an approval before it is refused); a course sets up its next
program only once its current one is done with the Council; a teacher's team is always the current program's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from models.calendar import last_day_for_certificates
from models.errors import InvalidInput, NextProgramNotYet, ProgramStateError
from models.program_history import current_program
from models.programs import (
    Program,
    ProgramDetails,
    approve,
    cancel,
    check_next_program,
    new_program,
    next_program_problem,
    submit,
)
from models.states import ProgramState as S
from models.teams import Team, add_team, add_team_member, program_and_team_of, team_of
from tests.factories import ENDED_ON, Course, planned_program, program_in

CREATED = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # 10:00 on 1 May 2026 in Bangkok
CREATED_DAY = date(2026, 5, 1)
TODAY = date(2026, 5, 20)


def drafted(db: Session, course: Course) -> Program:
    program = planned_program(db, course)
    program.created_at = CREATED
    db.flush()
    return program


def codes(refused: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in refused.value.problems]


# --- The submission day -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [CREATED_DAY, TODAY - timedelta(days=1), TODAY])
def test_a_submission_on_a_day_between_the_set_up_and_today_is_kept(db: Session, course: Course, day: date) -> None:
    program = drafted(db, course)
    submit(program, day, today=TODAY)
    db.flush()
    db.expire_all()
    assert (program.state, program.submitted_on) == (S.SUBMITTED, day)


def test_a_submission_dated_tomorrow_is_refused_and_the_program_stays_a_draft(db: Session, course: Course) -> None:
    program = drafted(db, course)
    with pytest.raises(InvalidInput) as refused:
        submit(program, TODAY + timedelta(days=1), today=TODAY)
    assert codes(refused) == [("submitted_on", "in_the_future")]
    assert (program.state, program.submitted_on) == (S.DRAFT, None)


def test_a_submission_before_the_program_was_set_up_is_refused(db: Session, course: Course) -> None:
    program = drafted(db, course)
    with pytest.raises(InvalidInput) as refused:
        submit(program, CREATED_DAY - timedelta(days=1), today=TODAY)
    assert codes(refused) == [("submitted_on", "before_creation")]
    assert refused.value.problems[0].params == {"created": CREATED_DAY}
    assert program.state is S.DRAFT


def test_the_set_up_day_is_the_thai_day_not_the_utc_one(db: Session, course: Course) -> None:
    program = drafted(db, course)
    program.created_at = datetime(2026, 4, 30, 18, 0, tzinfo=UTC)  # 1 May 01:00 in Bangkok
    db.flush()
    with pytest.raises(InvalidInput):
        submit(program, date(2026, 4, 30), today=TODAY)
    submit(program, CREATED_DAY, today=TODAY)
    assert program.submitted_on == CREATED_DAY


def test_a_submission_of_a_day_not_known_is_still_taken(db: Session, course: Course) -> None:
    program = drafted(db, course)
    submit(program, None, today=TODAY)
    assert (program.state, program.submitted_on) == (S.SUBMITTED, None)


def test_once_submitted_with_its_day_an_approval_before_it_is_refused(db: Session, course: Course) -> None:
    program = drafted(db, course)
    submit(program, TODAY - timedelta(days=5), today=TODAY)
    with pytest.raises(InvalidInput) as refused:
        approve(program, TODAY - timedelta(days=6), today=TODAY)
    assert codes(refused) == [("approved_on", "before_submission")]
    approve(program, TODAY - timedelta(days=5), today=TODAY)
    assert program.state is S.APPROVED


def test_a_program_is_submitted_once(db: Session, course: Course) -> None:
    program = drafted(db, course)
    submit(program, TODAY, today=TODAY)
    with pytest.raises(ProgramStateError):
        submit(program, TODAY, today=TODAY)
    assert program.submitted_on == TODAY


# --- The course's next program ----------------------------------------------------------------------------------

WINDOW_LAST_DAY = last_day_for_certificates(ENDED_ON)


def test_a_course_without_a_current_program_sets_one_up(db: Session, course: Course) -> None:
    assert next_program_problem(None, TODAY) is None
    check_next_program(None, TODAY)


def test_a_course_whose_program_was_cancelled_has_no_current_one(db: Session, course: Course) -> None:
    program = program_in(db, course, S.CANCELLED)
    assert program.state is S.CANCELLED and team_now(db, course, course.teachers[0].id) is None


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED, S.APPROVED, S.RUNNING])
def test_no_next_program_while_the_current_one_is_still_the_courses_work(db: Session, course: Course, state: S) -> None:
    current = program_in(db, course, state)
    with pytest.raises(NextProgramNotYet) as refused:
        check_next_program(current, ENDED_ON + timedelta(days=400))
    assert refused.value.code == "next_program_not_yet"
    assert refused.value.params == {"current": state, "until": None}


@pytest.mark.parametrize("today", [ENDED_ON, WINDOW_LAST_DAY])
def test_no_next_program_within_the_30_days_after_the_end(db: Session, course: Course, today: date) -> None:
    current = program_in(db, course, S.ENDED)
    with pytest.raises(NextProgramNotYet) as refused:
        check_next_program(current, today)
    assert refused.value.params == {"current": S.ENDED, "until": WINDOW_LAST_DAY}


def test_a_next_program_once_the_30_days_after_the_end_have_passed(db: Session, course: Course) -> None:
    current = program_in(db, course, S.ENDED)
    check_next_program(current, WINDOW_LAST_DAY + timedelta(days=1))


def test_a_next_program_once_the_certificates_are_requested(db: Session, course: Course) -> None:
    current = program_in(db, course, S.CERTIFICATES_REQUESTED)
    assert next_program_problem(current, ENDED_ON) is None


# --- A teacher's team is the current program's ------------------------------------------------------------------


def team_now(db: Session, course: Course, teacher: int) -> Team | None:
    """The teacher's team in the course's current program, as team_of reads it; program_and_team_of, which team_of
    and the landing page use, must read the course's current program with it."""
    db.flush()
    db.expire_all()  # read as a page reads them, not as the test made them
    team = team_of(db, course.scope, teacher)
    assert program_and_team_of(db, course.scope, teacher) == (current_program(db, course.scope), team)
    assert team is None or "program" in inspect(team).dict  # read with the team: a page asking for it sends nothing
    return team


def next_year(db: Session, course: Course) -> Program:
    return new_program(db, course.scope, ProgramDetails(name="PLC ปีที่ 2 (synthetic)"))


def test_a_teacher_of_last_years_team_has_no_team_in_a_new_program_without_teams(db: Session, course: Course) -> None:
    earlier = program_in(db, course, S.CERTIFICATES_REQUESTED)
    teacher = earlier.teams[0].member_ids[0]
    assert team_now(db, course, teacher) is earlier.teams[0]

    next_year(db, course)

    assert team_now(db, course, teacher) is None


def test_a_teacher_in_the_new_programs_team_gets_that_team(db: Session, course: Course) -> None:
    earlier = program_in(db, course, S.CERTIFICATES_REQUESTED)
    teacher = earlier.teams[0].member_ids[0]
    current = next_year(db, course)
    team = add_team(db, current, "ทีมปีที่ 2")
    add_team_member(db, team, teacher)

    assert team_now(db, course, teacher) is team


def test_a_cancelled_newer_programs_team_is_not_the_teachers_team(db: Session, course: Course) -> None:
    earlier = program_in(db, course, S.CERTIFICATES_REQUESTED)
    teacher = earlier.teams[0].member_ids[0]
    current = next_year(db, course)
    team = add_team(db, current, "ทีมปีที่ 2")
    add_team_member(db, team, teacher)
    cancelled = next_year(db, course)
    add_team_member(db, add_team(db, cancelled, "ทีมที่ยกเลิก"), teacher)
    cancel(cancelled)
    db.flush()

    assert team_now(db, course, teacher) is team


def test_another_courses_program_does_not_hide_this_courses_team(
    db: Session, course: Course, other_course: Course
) -> None:
    here = program_in(db, course, S.RUNNING)
    new_program(db, other_course.scope, ProgramDetails(name="อีกรายวิชา (synthetic)"))
    teacher = here.teams[0].member_ids[0]
    assert team_now(db, course, teacher) is here.teams[0]
