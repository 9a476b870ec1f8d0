"""Certificate rules: codes, issue only to eligible teachers and only once, revocation with a reason, the bulk job;
the hours logbook and the results report read what the team recorded. Synthetic data (tests/factories.py) on
SQLite and PostgreSQL, both migrated to head; every test is rolled back."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import certificates as certs
from models.cycles import ELEMENT_NUMBERS
from models.errors import InvalidInput
from models.logbook import logbook
from models.observations import submit_observation
from models.people import Membership
from models.plan import PlcRole, team_plan
from models.programs import Program, end, request_certificates
from models.reflections import submit_reflection
from models.results_report import results_report
from models.states import ProgramState
from tests.factories import ENDED_ON, FORM, NOW, Course, program_in, record


def completed(db: Session, course: Course, members: int = 3, skip: int | None = None) -> Program:
    """A program whose team did every element, observation and reflection of 3 cycles (2 hours a session);
    member `skip` (an index) missed element 4 of cycle 2. Then it ends."""
    program = program_in(db, course, ProgramState.RUNNING, members=members)
    team = program.teams[0]
    absent = team.member_ids[skip] if skip is not None else None
    for cycle in (1, 2, 3):
        for element in ELEMENT_NUMBERS:
            present = [m for m in team.member_ids if not (m == absent and (cycle, element) == (2, 4))]
            record(db, team, element, cycle=cycle, attendee_ids=present)
        for buddy in team_plan(team)[cycle][1]:
            submit_observation(db, team, cycle, buddy, FORM, NOW)
        for member in team.member_ids:
            submit_reflection(db, team, cycle, member, f"สะท้อนผลวงรอบ {cycle}", NOW)
    end(program, ENDED_ON)
    return program


def count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(certs.Certificate)) or 0)


# --- Codes ------------------------------------------------------------------------------------------------------


def test_a_code_is_ten_crockford_characters_in_two_groups() -> None:
    code = certs.new_code()
    assert len(code) == 11 and code[5] == "-"
    assert all(ch in certs.CODE_ALPHABET for ch in code.replace("-", ""))


def test_codes_do_not_repeat() -> None:
    assert len({certs.new_code() for _ in range(2000)}) == 2000


@pytest.mark.parametrize("typed", ["7kq2m-9xh4t", " 7KQ2M 9XH4T ", "7KQ2M9XH4T", "7kq2m–9xh4t".replace("–", "-")])
def test_a_code_typed_loosely_is_read_as_printed(typed: str) -> None:
    assert certs.normalise_code(typed) == "7KQ2M-9XH4T"


def test_letters_mistaken_for_digits_are_read_as_the_digits() -> None:
    assert certs.normalise_code("OIL00-11111") == "01100-11111"


@pytest.mark.parametrize("typed", ["", "7KQ2M", "7KQ2M-9XH4T-1", "UUUUU-UUUUU", "<script>", "7KQ2M-9XH4!"])
def test_something_that_cannot_be_a_code_is_none(typed: str) -> None:
    assert certs.normalise_code(typed) is None


# --- Issue ------------------------------------------------------------------------------------------------------


def test_only_eligible_teachers_get_a_certificate(db: Session, course: Course) -> None:
    program = completed(db, course, skip=2)
    team = program.teams[0]

    issued = certs.issue_certificates(db, program, issued_by_id=course.trainer.id, today=ENDED_ON)

    assert sorted(i.certificate.membership_id for i in issued) == sorted(team.member_ids[:2])
    first = issued[0].certificate
    assert (first.cycles, first.hours, first.program_name, first.agency) == (
        3,
        Decimal(30),
        program.name,
        program.agency,
    )


def test_issuing_twice_issues_nothing_the_second_time(db: Session, course: Course) -> None:
    program = completed(db, course)
    certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)

    assert certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON) == []
    assert count(db) == 3


def test_the_database_refuses_a_second_certificate_for_a_teacher(db: Session, course: Course) -> None:
    program = completed(db, course)
    [first, *_] = certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)
    twin = certs.Certificate(
        program_id=program.id,
        membership_id=first.certificate.membership_id,
        code=certs.new_code(),
        holder_name="x",
        program_name="x",
        cycles=3,
        hours=Decimal(1),
        issued_on=ENDED_ON,
    )
    db.add(twin)
    with pytest.raises(IntegrityError):
        db.flush()


@pytest.mark.parametrize("state", [ProgramState.RUNNING, ProgramState.APPROVED, ProgramState.DRAFT])
def test_no_certificate_before_the_program_ends(db: Session, course: Course, state: ProgramState) -> None:
    program = program_in(db, course, state)

    with pytest.raises(certs.CertificatesNotYet):
        certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)
    assert count(db) == 0


def test_certificates_are_issued_after_they_are_requested_from_the_council(db: Session, course: Course) -> None:
    program = completed(db, course)
    request_certificates(program, ENDED_ON)

    assert len(certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)) == 3


def test_a_revoked_certificate_is_not_issued_again(db: Session, course: Course) -> None:
    program = completed(db, course)
    [first, *_] = certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)
    certs.revoke(first.certificate, revoked_by_id=course.trainer.id, reason="ข้อมูลชั่วโมงผิด", now=NOW)

    assert certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON) == []
    assert certs.find_by_code(db, first.certificate.code.lower()).revoked  # type: ignore[union-attr]


# --- Revoke -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_revoking_needs_a_reason_of_sensible_length(db: Session, course: Course, reason: str) -> None:
    program = completed(db, course)
    [first, *_] = certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)

    with pytest.raises(InvalidInput):
        certs.revoke(first.certificate, revoked_by_id=course.trainer.id, reason=reason, now=NOW)
    assert not first.certificate.revoked


def test_a_certificate_is_revoked_once(db: Session, course: Course) -> None:
    program = completed(db, course)
    [first, *_] = certs.issue_certificates(db, program, issued_by_id=None, today=ENDED_ON)
    certs.revoke(first.certificate, revoked_by_id=course.trainer.id, reason="ผิด", now=NOW)

    with pytest.raises(certs.AlreadyRevoked):
        certs.revoke(first.certificate, revoked_by_id=course.trainer.id, reason="อีกครั้ง", now=NOW)
    assert first.certificate.revoked_reason == "ผิด"


def test_an_unknown_code_finds_nothing(db: Session, course: Course) -> None:
    completed(db, course)
    assert certs.find_by_code(db, "ZZZZZ-ZZZZZ") is None
    assert certs.find_by_code(db, "nonsense") is None


# --- The bulk job -----------------------------------------------------------------------------------------------


def test_a_second_request_while_a_job_is_pending_returns_that_job(db: Session, course: Course) -> None:
    program = completed(db, course)
    first = certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON)

    assert certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON).id == first.id


def test_a_finished_job_lets_a_new_one_start(db: Session, course: Course) -> None:
    program = completed(db, course)
    first = certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON)
    first.state = certs.JobState.DONE

    assert certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON).id != first.id


def test_no_job_before_the_program_ends(db: Session, course: Course) -> None:
    program = program_in(db, course, ProgramState.RUNNING)

    with pytest.raises(certs.CertificatesNotYet):
        certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON)


# --- Logbook and results report -----------------------------------------------------------------------------------


def test_the_logbook_lists_the_sessions_attended_with_role_and_totals(db: Session, course: Course) -> None:
    program = completed(db, course, skip=0)
    member = db.get(Membership, program.teams[0].member_ids[0])
    assert member is not None

    book = logbook(db, program, member)

    assert len(book.entries) == 14 and book.total_hours == Decimal(28)
    assert book.hours_by_element == {1: 6, 2: 6, 3: 6, 4: 4, 5: 6}
    assert book.hours_by_cycle == {1: 10, 2: 8, 3: 10}
    assert {e.role for e in book.entries} == {PlcRole.MODEL, PlcRole.BUDDY}


def test_a_teacher_of_another_team_has_an_empty_logbook(db: Session, course: Course) -> None:
    program = completed(db, course, members=3)
    outsider = course.teachers[5]

    assert logbook(db, program, outsider).entries == ()


def test_the_results_report_has_every_cycle_and_the_eligible_teachers(db: Session, course: Course) -> None:
    program = completed(db, course, skip=1)

    report = results_report(db, program)

    assert report.due_on == date(2027, 4, 30)
    [team] = report.teams
    assert [c.number for c in team.cycles] == [1, 2, 3]
    assert all(len(c.reflections) == 3 and len(c.observations) == 2 for c in team.cycles)
    assert len(report.eligible) == 2 and len(report.members) == 3


def test_a_job_is_taken_by_one_worker_only(db: Session, course: Course) -> None:
    program = completed(db, course)
    job = certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON)

    first = certs.claim_job(db, job.id, NOW, timedelta(seconds=30))
    second = certs.claim_job(db, job.id, NOW + timedelta(seconds=5), timedelta(seconds=30))

    assert first is not None and first.state is certs.JobState.RUNNING
    assert second is None


def test_a_running_job_whose_worker_fell_silent_is_taken_over(db: Session, course: Course) -> None:
    program = completed(db, course)
    job = certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON)
    certs.claim_job(db, job.id, NOW, timedelta(seconds=30))

    assert certs.claim_job(db, job.id, NOW + timedelta(minutes=2), timedelta(seconds=30)) is not None


def test_a_finished_job_is_not_taken_again(db: Session, course: Course) -> None:
    program = completed(db, course)
    job = certs.request_bulk_issue(db, program, course.trainer.id, today=ENDED_ON)
    job.state = certs.JobState.DONE
    db.flush()

    assert certs.claim_job(db, job.id, NOW + timedelta(hours=1), timedelta(seconds=30)) is None
