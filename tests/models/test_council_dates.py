"""Council dates that make sense: the approval is a day that has come and not before the submission, and the dates
typed into a tracking form fall inside the program year (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from models.errors import InvalidInput
from models.forms import save_form
from models.people import Membership
from models.programs import Program, approve, submit
from models.states import ProgramState as S
from models.teams import Team
from tests.factories import APPROVED_ON, LAST_DAY, TODAY, Course, planned_program, program_in, running

OPERATION = {"activities": "สอนเรื่องเศษส่วน", "what_worked": "ใช้สื่อของจริง"}


def problem_codes(refused: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in refused.value.problems]


def test_the_approval_may_be_dated_today(db: Session, course: Course) -> None:
    program = program_in(db, course, S.SUBMITTED)
    approve(program, APPROVED_ON, today=APPROVED_ON)
    assert program.state is S.APPROVED and program.approved_on == APPROVED_ON


def test_an_approval_dated_tomorrow_is_refused_and_nothing_changes(db: Session, course: Course) -> None:
    program = program_in(db, course, S.SUBMITTED)
    with pytest.raises(InvalidInput) as refused:
        approve(program, APPROVED_ON + timedelta(days=1), today=APPROVED_ON)
    assert problem_codes(refused) == [("approved_on", "in_the_future")]
    assert program.state is S.SUBMITTED and program.approved_on is None


CREATED = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # the program was set up in the app before it was submitted


def drafted(db: Session, course: Course) -> Program:
    """A planned draft set up on CREATED (the factories' calendar is of mid-2026, not the machine's)."""
    program = planned_program(db, course)
    program.created_at = CREATED
    db.flush()
    return program


def test_the_submission_day_is_kept_when_it_is_known(db: Session, course: Course) -> None:
    program = drafted(db, course)
    submit(program, on=date(2026, 5, 20))
    db.flush()
    assert program.submitted_on == date(2026, 5, 20)


def test_an_approval_dated_before_the_submission_is_refused(db: Session, course: Course) -> None:
    program = drafted(db, course)
    submit(program, on=APPROVED_ON)
    with pytest.raises(InvalidInput) as refused:
        approve(program, APPROVED_ON - timedelta(days=1), today=TODAY)
    assert problem_codes(refused) == [("approved_on", "before_submission")]
    assert program.state is S.SUBMITTED and program.approved_on is None


def test_an_approval_on_the_submission_day_is_accepted(db: Session, course: Course) -> None:
    program = drafted(db, course)
    submit(program, on=APPROVED_ON)
    approve(program, APPROVED_ON, today=TODAY)
    assert program.state is S.APPROVED


def test_a_program_submitted_without_a_known_day_is_approved_on_any_past_day(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    submit(program)
    approve(program, date(2020, 1, 1), today=TODAY)
    assert program.approved_on == date(2020, 1, 1)


def writer(db: Session, team: Team) -> Membership:
    member = db.get(Membership, team.member_ids[0])
    assert member is not None
    return member


@pytest.mark.parametrize("day", [APPROVED_ON, TODAY, LAST_DAY])
def test_a_teaching_date_inside_the_program_year_is_kept(db: Session, course: Course, day: date) -> None:
    _, team = running(db, course)
    answers = {**OPERATION, "taught_on": day.isoformat()}
    entry = save_form(db, team, 1, "operation-tracking", answers, writer(db, team), TODAY)
    assert entry.answers["taught_on"] == day.isoformat()


@pytest.mark.parametrize("day", [APPROVED_ON - timedelta(days=1), LAST_DAY + timedelta(days=1), date(2031, 3, 1)])
def test_a_teaching_date_outside_the_program_year_is_refused(db: Session, course: Course, day: date) -> None:
    _, team = running(db, course)
    answers = {**OPERATION, "taught_on": day.isoformat()}
    with pytest.raises(InvalidInput) as refused:
        save_form(db, team, 1, "operation-tracking", answers, writer(db, team), TODAY)
    assert problem_codes(refused) == [("taught_on", "outside_program_year")]
    assert refused.value.problems[0].params == {"first": APPROVED_ON, "last": LAST_DAY}


def test_an_optional_lesson_date_outside_the_year_is_refused_too(db: Session, course: Course) -> None:
    _, team = running(db, course)
    answers = {"problem": "อ่านโจทย์ไม่เข้าใจ", "approaches": "ฝึกอ่าน", "plan": "สัปดาห์ละครั้ง", "lesson_date": "2031-01-01"}
    with pytest.raises(InvalidInput) as refused:
        save_form(db, team, 1, "problem-reflection", answers, writer(db, team), TODAY)
    assert problem_codes(refused) == [("lesson_date", "outside_program_year")]


def test_a_date_that_is_not_a_date_is_still_refused_as_such(db: Session, course: Course) -> None:
    _, team = running(db, course)
    answers = {**OPERATION, "taught_on": "2031-13-45"}
    with pytest.raises(InvalidInput) as refused:
        save_form(db, team, 1, "operation-tracking", answers, writer(db, team), TODAY)
    assert problem_codes(refused) == [("taught_on", "not_a_date")]
