"""Undo where the Council's rules allow: reopening an ended program, cancelling with a reason, correcting the
approval date, each kept in the program's history (models/programs.py, models/program_history.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from models import certificates as certs
from models import program_history
from models.calendar import last_day_of_program
from models.errors import (
    ApprovalDateAfterRecords,
    ApprovalDateInFuture,
    CertificatesStand,
    InvalidInput,
    ProgramExpired,
    ProgramStateError,
)
from models.program_history import ProgramChangeKind
from models.programs import end
from models.states import ProgramState
from tests.factories import APPROVED_ON, ENDED_ON, NOW, STARTED_ON, TODAY, Course, program_in, record
from tests.models.test_certificates import completed

REASON = "บันทึกการประชุมวงรอบที่ 3 ยังไม่ครบ"


# --- Reopen -----------------------------------------------------------------------------------------------------


def test_a_trainer_reopens_an_ended_program_with_a_reason(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.ENDED)

    change = program_history.reopen(db, program, course.trainer, REASON, ENDED_ON)

    assert program.state is ProgramState.RUNNING and program.ended_on is None
    assert (change.kind, change.before, change.reason) == (ProgramChangeKind.REOPENED, ENDED_ON.isoformat(), REASON)
    assert program_history.history(db, program) == [change]


def test_reopening_without_a_reason_is_refused_and_changes_nothing(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.ENDED)

    with pytest.raises(InvalidInput) as refused:
        program_history.reopen(db, program, course.trainer, "   ", ENDED_ON)

    assert refused.value.problems[0].code == "required"
    assert program.state is ProgramState.ENDED and program_history.history(db, program) == []


def test_a_running_program_is_not_reopened(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    with pytest.raises(ProgramStateError):
        program_history.reopen(db, program, course.trainer, REASON, TODAY)


def test_a_program_whose_certificates_were_requested_is_not_reopened(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.CERTIFICATES_REQUESTED)

    with pytest.raises(ProgramStateError):
        program_history.reopen(db, program, course.trainer, REASON, ENDED_ON)
    assert program.state is ProgramState.CERTIFICATES_REQUESTED


def test_an_issued_certificate_stops_the_reopening(db: Session, course: Course) -> None:
    program = completed(db, course)
    certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=ENDED_ON)

    with pytest.raises(CertificatesStand) as refused:
        program_history.reopen(db, program, course.trainer, REASON, ENDED_ON)

    assert refused.value.params["issued"] == 3 and program.state is ProgramState.ENDED


def test_revoked_certificates_no_longer_stop_the_reopening(db: Session, course: Course) -> None:
    program = completed(db, course, members=2)
    for issued in certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=ENDED_ON):
        certs.revoke(issued.certificate, revoked_by_id=course.trainer.id, reason="ชั่วโมงผิด", now=NOW)

    program_history.reopen(db, program, course.trainer, REASON, ENDED_ON)

    assert program.state is ProgramState.RUNNING


def test_a_program_whose_year_ran_out_is_not_reopened(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.ENDED)
    too_late = last_day_of_program(APPROVED_ON) + timedelta(days=1)

    with pytest.raises(ProgramExpired):
        program_history.reopen(db, program, course.trainer, REASON, too_late)
    assert program.state is ProgramState.ENDED


def test_a_reopened_program_ends_again(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.ENDED)
    program_history.reopen(db, program, course.trainer, REASON, ENDED_ON)

    end(program, ENDED_ON + timedelta(days=3))

    assert program.state is ProgramState.ENDED and program.ended_on == ENDED_ON + timedelta(days=3)


# --- Cancel -----------------------------------------------------------------------------------------------------


def test_cancelling_keeps_who_when_and_why(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    change = program_history.cancel(db, program, course.trainer, REASON)

    assert program.state is ProgramState.CANCELLED
    assert (change.kind, change.before, change.after) == (ProgramChangeKind.CANCELLED, "running", "cancelled")
    assert change.by is course.trainer and change.at is not None and change.reason == REASON


def test_cancelling_without_a_reason_is_refused(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.APPROVED)

    with pytest.raises(InvalidInput):
        program_history.cancel(db, program, course.trainer, "")
    assert program.state is ProgramState.APPROVED


def test_an_ended_program_is_not_cancelled(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.ENDED)

    with pytest.raises(ProgramStateError):
        program_history.cancel(db, program, course.trainer, REASON)
    assert program_history.history(db, program) == []


def test_a_reason_longer_than_its_limit_is_refused_not_cut(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.DRAFT)

    with pytest.raises(InvalidInput) as refused:
        program_history.cancel(db, program, course.trainer, "ก" * (program_history.REASON_LENGTH + 1))

    assert refused.value.problems[0].code == "too_long" and program.state is ProgramState.DRAFT


# --- Correct the approval date ----------------------------------------------------------------------------------


def test_a_trainer_corrects_the_approval_date_before_anything_happened(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.APPROVED)
    corrected = APPROVED_ON - timedelta(days=10)

    change = program_history.correct_approval_date(db, program, course.trainer, corrected, REASON, TODAY)

    assert program.approved_on == corrected
    assert (change.before, change.after) == (APPROVED_ON.isoformat(), corrected.isoformat())
    assert change.kind is ProgramChangeKind.APPROVAL_CORRECTED


def test_the_corrected_date_moves_the_program_year(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    program_history.correct_approval_date(db, program, course.trainer, date(2026, 5, 1), REASON, TODAY)

    assert program.last_day == last_day_of_program(date(2026, 5, 1))


def test_an_approval_date_after_a_recorded_session_is_refused(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)
    record(db, program.teams[0], 1, held_on=APPROVED_ON + timedelta(days=2))  # before the start, after the approval

    with pytest.raises(ApprovalDateAfterRecords) as refused:
        program_history.correct_approval_date(
            db, program, course.trainer, APPROVED_ON + timedelta(days=5), REASON, TODAY
        )

    assert refused.value.params["earliest"] == APPROVED_ON + timedelta(days=2) and program.approved_on == APPROVED_ON


def test_an_approval_date_after_the_start_is_refused(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    with pytest.raises(ApprovalDateAfterRecords):
        program_history.correct_approval_date(
            db, program, course.trainer, STARTED_ON + timedelta(days=1), REASON, TODAY
        )
    assert program_history.history(db, program) == []


def test_an_approval_date_in_the_future_is_refused(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.APPROVED)

    with pytest.raises(ApprovalDateInFuture):
        program_history.correct_approval_date(db, program, course.trainer, TODAY + timedelta(days=1), REASON, TODAY)
    assert program.approved_on == APPROVED_ON


def test_a_draft_has_no_approval_date_to_correct(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.SUBMITTED)

    with pytest.raises(ProgramStateError):
        program_history.correct_approval_date(db, program, course.trainer, APPROVED_ON, REASON, TODAY)
    assert program.approved_on is None


def test_correcting_the_approval_date_without_a_reason_is_refused(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.APPROVED)

    with pytest.raises(InvalidInput):
        program_history.correct_approval_date(db, program, course.trainer, APPROVED_ON - timedelta(days=1), "", TODAY)
    assert program.approved_on == APPROVED_ON
