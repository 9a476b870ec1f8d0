"""Use cases of the agency that runs the course's program (seed 004 §1, §2.1): set it up or choose one the course
keeps, correct its details, and list, correct or remove its staff who lead PLC work. Only the course's trainers change
it; each works in the caller's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from lti_tool.services.programs import require_program_editor
from models import agencies, programs
from models.agencies import Agency, AgencyDetails, AgencyStaff, StaffDetails
from models.programs import Program


def save_agency(db: Session, actor: Actor, program: Program, details: AgencyDetails) -> Agency:
    """Correct the details of the agency that runs the program, or set up a new one that runs it from now on."""
    require_program_editor(actor)
    programs.lock(program)
    current = agencies.program_agency(db, program)
    if current is None:
        return _run_by_a_new_agency(db, actor, program, details)
    agencies.edit_agency(db, current, details)
    return current


def new_agency(db: Session, actor: Actor, program: Program, details: AgencyDetails) -> Agency:
    """Set up another agency in the course, which runs the program from now on (while its plan may change)."""
    require_program_editor(actor)
    programs.lock(program)
    return _run_by_a_new_agency(db, actor, program, details)


def _run_by_a_new_agency(db: Session, actor: Actor, program: Program, details: AgencyDetails) -> Agency:
    agency = agencies.new_agency(db, actor.scope, details)
    agencies.run_by(program, agency)
    return agency


def choose_agency(db: Session, actor: Actor, program: Program, agency_id: int) -> Agency:
    """The program is run by an agency the course already keeps (NotFoundInCourse for any other)."""
    require_program_editor(actor)
    programs.lock(program)
    agency = agencies.agency_in_course(db, actor.scope, agency_id)
    agencies.run_by(program, agency)
    return agency


def add_staff(db: Session, actor: Actor, agency_id: int, details: StaffDetails, *, today: date) -> AgencyStaff:
    require_program_editor(actor)
    agency = agencies.agency_in_course(db, actor.scope, agency_id)
    return agencies.add_staff(db, agency, details, today)


def correct_staff(db: Session, actor: Actor, staff_id: int, details: StaffDetails, *, today: date) -> AgencyStaff:
    require_program_editor(actor)
    member = agencies.staff_in_course(db, actor.scope, staff_id)
    agencies.edit_staff(member, details, today)
    return member


def remove_staff(db: Session, actor: Actor, staff_id: int) -> str:
    """Remove a staff member from the agency's list; returns their name for the notice."""
    require_program_editor(actor)
    member = agencies.staff_in_course(db, actor.scope, staff_id)
    name = member.name
    agencies.remove_staff(db, member)
    return name
