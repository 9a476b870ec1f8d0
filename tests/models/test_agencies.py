"""The agency's rules (seed 004 §1, §2.1) on SQLite and PostgreSQL: the kinds of §1, what an agency and its staff
need, the course that keeps them, and when the program may be given another agency."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from models import agencies
from models.agencies import KIND_NAMES, AgencyDetails, AgencyKind, StaffDetails
from models.errors import InvalidInput, NotFoundInCourse, PlanFrozen
from models.states import ProgramState
from tests.factories import TODAY, Course, planned_program, program_in

DETAILS = AgencyDetails(
    kind=AgencyKind.LOCAL_GOVERNMENT,
    name="กองการศึกษา เทศบาลตัวอย่าง (synthetic)",
    address="ถนนตัวอย่าง\nจังหวัดตัวอย่าง 10000",
    signatory_name="นายตัวอย่าง ใจดี",
    signatory_position="นายกเทศมนตรี",
    contact_unit="กองการศึกษา",
    telephone="0 2000 0000",
)
TRAINED = StaffDetails("นางสาวตัวอย่าง (synthetic)", "ศึกษานิเทศก์", "อบรม PLC ของคุรุสภา", date(2025, 8, 20))


def problem_fields(error: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.code for p in error.value.problems}


def test_the_kinds_are_the_seven_of_the_guideline_in_its_own_words() -> None:
    assert [KIND_NAMES[k]["th"] for k in AgencyKind] == [
        "ศึกษานิเทศก์",
        "ศึกษานิเทศจังหวัด",
        "กองการศึกษา",
        "หน่วยงานระดับสำนักงานเขตพื้นที่",
        "องค์กรปกครองส่วนท้องถิ่น",
        "สถาบันอุดมศึกษา",
        "หน่วยงานทางการศึกษาอื่น",
    ]


def test_an_agency_runs_the_program_and_lists_its_staff_with_their_training(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    agency = agencies.new_agency(db, course.scope, DETAILS)
    agencies.run_by(program, agency)
    agencies.add_staff(db, agency, TRAINED, TODAY)

    db.expire_all()
    stored = agencies.program_agency(db, program)
    assert stored is not None and stored.kind is AgencyKind.LOCAL_GOVERNMENT
    assert stored.address_lines == ["ถนนตัวอย่าง", "จังหวัดตัวอย่าง 10000"]
    assert [(s.name, s.training, s.trained_on) for s in stored.staff] == [
        (TRAINED.name, TRAINED.training, TRAINED.trained_on)
    ]
    assert program.agency == DETAILS.name  # the name as certificates and reports copy it
    assert agencies.letter_gaps(stored) == []


def test_an_agency_needs_a_name_and_text_within_its_columns(db: Session, course: Course) -> None:
    with pytest.raises(InvalidInput) as refused:
        agencies.new_agency(db, course.scope, AgencyDetails(AgencyKind.OTHER, " ", telephone="0" * 65))

    assert problem_fields(refused) == {"name": "required", "telephone": "too_long"}
    assert agencies.course_agencies(db, course.scope) == []


def test_staff_need_a_name_their_training_and_a_day_that_has_come(db: Session, course: Course) -> None:
    agency = agencies.new_agency(db, course.scope, DETAILS)

    with pytest.raises(InvalidInput) as missing:
        agencies.add_staff(db, agency, StaffDetails("", "", "", None), TODAY)
    with pytest.raises(InvalidInput) as future:
        agencies.add_staff(db, agency, StaffDetails("ครู", "", "อบรม", date(2026, 7, 2)), TODAY)

    assert problem_fields(missing) == {"name": "required", "training": "required", "trained_on": "required"}
    assert problem_fields(future) == {"trained_on": "in_the_future"}
    assert agency.staff == []


def test_staff_are_corrected_and_removed(db: Session, course: Course) -> None:
    agency = agencies.new_agency(db, course.scope, DETAILS)
    member = agencies.add_staff(db, agency, TRAINED, TODAY)

    agencies.edit_staff(member, StaffDetails(TRAINED.name, "ศึกษานิเทศก์เชี่ยวชาญ", "อบรม", date(2024, 1, 5)), TODAY)
    assert (member.position, member.trained_on) == ("ศึกษานิเทศก์เชี่ยวชาญ", date(2024, 1, 5))
    agencies.remove_staff(db, member)

    db.expire_all()
    assert agencies.agency_in_course(db, course.scope, agency.id).staff == []


def test_another_courses_agency_and_staff_are_not_found_in_this_course(
    db: Session, course: Course, other_course: Course
) -> None:
    theirs = agencies.new_agency(db, other_course.scope, DETAILS)
    their_member = agencies.add_staff(db, theirs, TRAINED, TODAY)
    program = planned_program(db, course)

    assert agencies.course_agencies(db, course.scope) == []
    with pytest.raises(NotFoundInCourse):
        agencies.agency_in_course(db, course.scope, theirs.id)
    with pytest.raises(NotFoundInCourse):
        agencies.staff_in_course(db, course.scope, their_member.id)
    with pytest.raises(NotFoundInCourse):
        agencies.run_by(program, theirs)
    assert program.agency_id is None


def test_correcting_the_agencys_name_renames_it_on_every_program_it_runs(db: Session, course: Course) -> None:
    program = planned_program(db, course)
    agency = agencies.new_agency(db, course.scope, DETAILS)
    agencies.run_by(program, agency)

    agencies.edit_agency(db, agency, AgencyDetails(AgencyKind.EDUCATION_DIVISION, "กองการศึกษา (ชื่อใหม่)"))

    assert program.agency == "กองการศึกษา (ชื่อใหม่)" and agency.kind is AgencyKind.EDUCATION_DIVISION
    assert agencies.letter_gaps(agency) == [
        "address",
        "signatory_name",
        "signatory_position",
        "contact_unit",
        "telephone",
    ]


def test_once_the_plan_is_frozen_another_agency_is_refused_and_a_missing_one_only_by_the_name_it_was_sent_with(
    db: Session, course: Course
) -> None:
    program = program_in(db, course, ProgramState.RUNNING)
    program.agency = DETAILS.name  # set up before agencies were kept: sent to the Council with this name, no agency row
    other_name = agencies.new_agency(db, course.scope, AgencyDetails(AgencyKind.UNIVERSITY, "มหาวิทยาลัย (synthetic)"))
    with pytest.raises(PlanFrozen):
        agencies.run_by(program, other_name)  # would change the approved plan's agency
    assert program.agency_id is None and program.agency == DETAILS.name

    first = agencies.new_agency(db, course.scope, DETAILS)
    agencies.run_by(program, first)  # the very agency it was sent with: kept as a row, the name unchanged
    assert program.agency_id == first.id and program.agency == DETAILS.name

    with pytest.raises(PlanFrozen):
        agencies.run_by(program, other_name)
    assert program.agency_id == first.id


def test_renaming_an_agency_renames_it_in_draft_programs_only(db: Session, course: Course) -> None:
    """Its name is part of the plan sent to the Council (seed 004 §2.6): a program past its draft keeps it."""
    running = program_in(db, course, ProgramState.RUNNING)
    agency = agencies.new_agency(db, course.scope, DETAILS)
    running.agency = DETAILS.name
    agencies.run_by(running, agency)
    draft = program_in(db, course, ProgramState.DRAFT)
    agencies.run_by(draft, agency)

    agencies.edit_agency(db, agency, AgencyDetails(DETAILS.kind, "ชื่อใหม่ของหน่วยงาน (synthetic)"))

    assert agency.name == "ชื่อใหม่ของหน่วยงาน (synthetic)" and draft.agency == agency.name
    assert running.agency == DETAILS.name


def test_a_letter_without_an_agency_lacks_the_agency() -> None:
    assert agencies.letter_gaps(None) == ["agency"]
