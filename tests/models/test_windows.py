"""The Council's windows (seed 004 §2.5, §3.3): the program year counted from the approval, the 30 days after the end
within which certificates are issued, and issuing after them only with a reason that every certificate keeps, with
the day the 30 days ended. Synthetic data (tests/factories.py) on SQLite and PostgreSQL, rolled back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import certificates as certs
from models.errors import InvalidInput
from models.programs import request_certificates
from models.states import ProgramState
from models.windows import certificate_window, program_year
from tests.factories import APPROVED_ON, ENDED_ON, LAST_DAY, Course, program_in
from tests.models.test_certificates import completed, count

LATE = "ครูสองคนส่งหลักฐานชั่วโมงครบหลังวันที่ 30 (ข้อมูลสังเคราะห์)"


def day(n: int) -> date:
    """Day `n` after the program's end: day 0 is the end itself, day 30 the last of the Council's 30 days."""
    return ENDED_ON + timedelta(days=n)


# --- The windows as the program page counts them -------------------------------------------------------------------


def test_the_program_year_runs_one_year_from_the_approval(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    year = program_year(program, APPROVED_ON + timedelta(days=10))

    assert year is not None and (year.opens_on, year.last_day) == (APPROVED_ON, LAST_DAY)
    assert year.days_left == (LAST_DAY - APPROVED_ON).days - 10 and not year.passed


def test_the_program_year_has_passed_the_day_after_its_last_day(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    on_last_day = program_year(program, LAST_DAY)
    after = program_year(program, LAST_DAY + timedelta(days=1))

    assert on_last_day is not None and on_last_day.days_left == 0 and not on_last_day.passed
    assert after is not None and after.passed and after.days_since_passed == 1


def test_a_program_not_yet_approved_has_no_year_to_count(db: Session, course: Course) -> None:
    assert program_year(program_in(db, course, ProgramState.SUBMITTED), APPROVED_ON) is None


def test_the_30_days_count_from_the_end_and_pass_on_day_31(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.ENDED)

    opening, last, late = (certificate_window(program, day(n)) for n in (0, 30, 31))

    assert opening is not None and opening.days_left == 30 and not opening.passed
    assert last is not None and last.last_day == day(30) and last.days_left == 0 and not last.passed
    assert late is not None and late.passed and late.days_since_passed == 1


def test_a_running_program_has_no_certificate_window_yet(db: Session, course: Course) -> None:
    assert certificate_window(program_in(db, course, ProgramState.RUNNING), day(0)) is None


# --- Issuing within and after the 30 days ----------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 30])
def test_certificates_issued_from_the_end_to_day_30_are_on_time(db: Session, course: Course, n: int) -> None:
    program = completed(db, course)

    issued = certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=day(n))

    assert len(issued) == 3
    assert all(not i.certificate.issued_late and i.certificate.late_reason == "" for i in issued)


def test_on_time_a_reason_given_anyway_is_not_kept(db: Session, course: Course) -> None:
    program = completed(db, course)

    [first, *_] = certs.issue_certificates(db, program, issued_by_id=None, today=day(30), late_reason=LATE)

    assert first.certificate.late_reason == "" and first.certificate.late_after is None


def test_issuing_on_day_31_without_a_reason_is_refused_and_issues_nothing(db: Session, course: Course) -> None:
    program = completed(db, course)

    with pytest.raises(InvalidInput) as refused:
        certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=day(31), late_reason="   ")

    [problem] = refused.value.problems
    assert (problem.field, problem.code, problem.params) == ("reason", "late_without_reason", {"last_day": day(30)})
    assert count(db) == 0


def test_issuing_on_day_31_with_a_reason_keeps_it_and_the_day_the_30_days_ended(db: Session, course: Course) -> None:
    program = completed(db, course)

    issued = certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=day(31), late_reason=LATE)

    assert len(issued) == 3
    stored = list(db.scalars(select(certs.Certificate).where(certs.Certificate.program_id == program.id)))
    assert {(c.issued_on, c.late_after, c.late_reason, c.issued_late) for c in stored} == {
        (day(31), day(30), LATE, True)
    }


def test_a_late_reason_over_its_limit_is_refused_not_cut(db: Session, course: Course) -> None:
    program = completed(db, course)

    with pytest.raises(InvalidInput) as refused:
        certs.issue_certificates(db, program, issued_by_id=None, today=day(45), late_reason="ก" * 1001)

    assert refused.value.problems[0].code == "too_long" and count(db) == 0


def test_certificates_are_refused_while_the_program_runs(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    with pytest.raises(certs.CertificatesNotYet):
        certs.issue_certificates(db, program, issued_by_id=None, today=day(0), late_reason=LATE)


def test_certificates_are_refused_on_a_day_before_the_end(db: Session, course: Course) -> None:
    program = completed(db, course)

    with pytest.raises(certs.CertificatesNotYet):
        certs.issue_certificates(db, program, issued_by_id=None, today=day(-1))
    assert count(db) == 0


def test_certificates_requested_in_time_and_issued_after_the_30_days_are_late_too(db: Session, course: Course) -> None:
    program = completed(db, course)
    request_certificates(program, day(30))

    with pytest.raises(InvalidInput):
        certs.issue_certificates(db, program, issued_by_id=None, today=day(40))
    [first, *_] = certs.issue_certificates(db, program, issued_by_id=None, today=day(40), late_reason=LATE)
    assert first.certificate.issued_late and program.state is ProgramState.CERTIFICATES_REQUESTED


# --- The bulk job carries the reason ---------------------------------------------------------------------------


def test_a_bulk_issue_after_the_30_days_is_refused_without_a_reason(db: Session, course: Course) -> None:
    program = completed(db, course)

    with pytest.raises(InvalidInput) as refused:
        certs.request_bulk_issue(db, program, course.trainer.id, today=day(31))

    assert refused.value.problems[0].code == "late_without_reason"
    assert certs.latest_job(db, program) is None


def test_a_bulk_issue_after_the_30_days_carries_its_reason(db: Session, course: Course) -> None:
    program = completed(db, course)

    job = certs.request_bulk_issue(db, program, course.trainer.id, today=day(31), late_reason=f"  {LATE} ")

    assert job.late_reason == LATE


def test_a_bulk_issue_within_the_30_days_keeps_no_reason(db: Session, course: Course) -> None:
    program = completed(db, course)

    job = certs.request_bulk_issue(db, program, course.trainer.id, today=day(30), late_reason=LATE)

    assert job.late_reason == ""
