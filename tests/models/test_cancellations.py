"""Who cancelled a program, and why (seed 004 §2, closing paragraph): the agency itself, or the Council with its letter;
the history keeps the trainer who recorded it, the day and the reason. Synthetic data on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import program_history
from models.cancellations import Cancellation, CancellationDetails, CancelledBy, cancel, cancellation_of, cancelled
from models.errors import InvalidInput, ProgramStateError
from models.states import ProgramState
from tests.factories import APPROVED_ON, TODAY, Course, program_in

REASON = "หน่วยงานไม่ได้ดำเนินการตามแนวปฏิบัติข้อ 2.3 (ข้อมูลสังเคราะห์)"
LETTER = "ศธ 0206.3/1234"


def council(**changes: object) -> CancellationDetails:
    values: dict[str, object] = {
        "cancelled_by": "council",
        "reason": REASON,
        "letter_number": LETTER,
        "letter_date": TODAY - timedelta(days=3),
    }
    values.update(changes)
    return CancellationDetails(**values)  # type: ignore[arg-type]


def codes(refused: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.code for p in refused.value.problems}


def test_the_agency_cancels_its_own_program_with_a_reason(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.DRAFT)

    row = cancel(db, program, course.trainer, CancellationDetails("agency", REASON), TODAY)

    assert program.state is ProgramState.CANCELLED
    assert (row.cancelled_by, row.letter_number, row.letter_date) == (CancelledBy.AGENCY, "", None)
    assert row.change.by is course.trainer and row.change.reason == REASON and row.change.at is not None


def test_the_council_cancels_with_its_letters_number_and_date(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    cancel(db, program, course.trainer, council(letter_number=f"  {LETTER} "), TODAY)

    shown = cancellation_of(db, program)
    assert shown is not None and shown.cancelled_by is CancelledBy.COUNCIL
    assert (shown.letter_number, shown.letter_date) == (LETTER, TODAY - timedelta(days=3))
    assert shown.change.by is course.trainer and shown.change.reason == REASON
    assert [c.kind for c in program_history.history(db, program)] == [program_history.ProgramChangeKind.CANCELLED]


def test_the_agencys_cancellation_keeps_no_letter_typed_by_mistake(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.APPROVED)

    row = cancel(db, program, course.trainer, council(cancelled_by="agency"), TODAY)

    assert (row.cancelled_by, row.letter_number, row.letter_date) == (CancelledBy.AGENCY, "", None)


@pytest.mark.parametrize(
    ("details", "field", "code"),
    [
        (council(letter_number=" "), "letter_number", "letter_number_required"),
        (council(letter_number="ก" * 65), "letter_number", "letter_number_too_long"),
        (council(letter_date=None), "letter_date", "letter_date_required"),
        (council(letter_date=TODAY + timedelta(days=1)), "letter_date", "letter_date_in_future"),
        (council(reason=""), "reason", "required"),
        (CancellationDetails("", REASON), "cancelled_by", "who_cancels_required"),
        (CancellationDetails("headmaster", REASON), "cancelled_by", "who_cancels_required"),
    ],
)
def test_a_cancellation_missing_what_it_needs_is_refused_and_changes_nothing(
    db: Session, course: Course, details: CancellationDetails, field: str, code: str
) -> None:
    program = program_in(db, course, ProgramState.APPROVED)

    with pytest.raises(InvalidInput) as refused:
        cancel(db, program, course.trainer, details, TODAY)

    assert codes(refused)[field] == code
    assert program.state is ProgramState.APPROVED and program_history.history(db, program) == []
    assert db.scalars(select(Cancellation)).all() == []


def test_every_missing_field_is_named_at_once(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.SUBMITTED)

    with pytest.raises(InvalidInput) as refused:
        cancel(db, program, course.trainer, council(reason="", letter_number="", letter_date=None), TODAY)

    assert codes(refused) == {
        "reason": "required",
        "letter_number": "letter_number_required",
        "letter_date": "letter_date_required",
    }


def test_the_councils_letter_is_not_dated_before_the_submission(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.SUBMITTED)
    program.submitted_on = APPROVED_ON

    with pytest.raises(InvalidInput) as refused:
        cancel(db, program, course.trainer, council(letter_date=APPROVED_ON - timedelta(days=1)), TODAY)

    assert codes(refused) == {"letter_date": "letter_before_submission"}


def test_the_council_does_not_cancel_a_draft_it_never_received(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.DRAFT)

    with pytest.raises(InvalidInput) as refused:
        cancel(db, program, course.trainer, council(), TODAY)

    assert codes(refused) == {"cancelled_by": "council_not_asked"} and program.state is ProgramState.DRAFT


@pytest.mark.parametrize("state", [ProgramState.ENDED, ProgramState.CERTIFICATES_REQUESTED])
def test_a_program_that_ended_is_not_cancelled_by_either(db: Session, course: Course, state: ProgramState) -> None:
    program = program_in(db, course, state)

    for details in (CancellationDetails("agency", REASON), council()):
        with pytest.raises(ProgramStateError):
            cancel(db, program, course.trainer, details, TODAY)
    assert program.state is state and program_history.history(db, program) == []


def test_a_cancelled_program_is_not_cancelled_twice(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)
    cancel(db, program, course.trainer, CancellationDetails("agency", REASON), TODAY)

    with pytest.raises(ProgramStateError):
        cancel(db, program, course.trainer, council(), TODAY)


def test_the_database_refuses_a_council_cancellation_without_its_letter(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)
    change = program_history.cancel(db, program, course.trainer, REASON)

    db.add(Cancellation(program_id=program.id, change_id=change.id, cancelled_by=CancelledBy.COUNCIL))
    with pytest.raises(IntegrityError):
        db.flush()


def test_a_program_cancelled_before_who_cancelled_was_asked_still_shows_who_recorded_it(
    db: Session, course: Course
) -> None:
    program = program_in(db, course, ProgramState.RUNNING)
    program_history.cancel(db, program, course.trainer, REASON)  # as before migration 0015

    shown = cancellation_of(db, program)

    assert shown is not None and shown.cancelled_by is None and shown.change.reason == REASON


def test_only_cancelled_programs_have_a_cancellation(db: Session, course: Course) -> None:
    running = program_in(db, course, ProgramState.RUNNING)
    gone = program_in(db, course, ProgramState.CANCELLED)  # cancelled with no history at all

    assert cancellation_of(db, running) is None and cancellation_of(db, None) is None
    assert cancelled(db, [running, gone]) == {}
