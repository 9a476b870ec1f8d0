"""Use cases of a course's PLC program: setting it up, taking it through the Council's states, and reading its plan
by team for the application package. Each works in the caller's transaction; only the course's trainers change it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.services.actor import Actor
from models import cancellations, plan_versions, program_history, programs
from models.cancellations import Cancellation, CancellationDetails
from models.errors import NotATrainer
from models.people import course_members
from models.plan import PlcRole, role_in_cycle
from models.program_history import ProgramChange
from models.programs import Program, ProgramDetails
from models.roles import AppRole
from models.scope import CourseScope

PROGRAM_EDITORS = frozenset({AppRole.TRAINER})  # set up the program, change its state, its teams and its plan
PLAN_READERS = frozenset({AppRole.TRAINER, AppRole.ADMIN})  # download the application package and the plan


def require_program_editor(actor: Actor) -> None:
    """Refuse anyone but the course's trainers a change to the program or its plan."""
    if actor.role not in PROGRAM_EDITORS:
        raise NotATrainer(actor.role)


def course_program(db: Session, scope: CourseScope) -> Program | None:
    """The course's current PLC program (its newest not cancelled), if it has one."""
    return program_history.current_program(db, scope)


def earlier_programs(db: Session, scope: CourseScope) -> list[Program]:
    """The course's programs other than the current one, newest first: readable, never changed."""
    current = course_program(db, scope)
    return [p for p in program_history.course_programs(db, scope) if p is not current]


def history(db: Session, actor: Actor, program: Program) -> list[ProgramChange]:
    """The program's weighty steps, for the course's trainers (empty for anyone else)."""
    return program_history.history(db, program) if actor.role in PROGRAM_EDITORS else []


def save_program(db: Session, actor: Actor, details: ProgramDetails) -> Program:
    """Set up the course's program as a draft, or change the details of the program while its plan is open."""
    require_program_editor(actor)
    program = course_program(db, actor.scope)
    if program is None:
        return programs.new_program(db, actor.scope, details)
    programs.lock(program)
    if program.agency_id is not None:  # the agency's page names it; a posted text never drifts from its row
        details = replace(details, agency=program.agency)
    programs.edit_program(program, details)
    return program


def may_set_up_next_program(db: Session, scope: CourseScope, *, today: date) -> bool:
    """Whether the course's current program is done with the Council, so that the next year's can be set up."""
    current = course_program(db, scope)
    return current is not None and programs.next_program_problem(current, today) is None


def set_up_next_program(db: Session, actor: Actor, details: ProgramDetails, *, today: date) -> Program:
    """Set up the course's next program (a new program year) as a draft, once the current one requested its
    certificates or ended more than 30 days ago (NextProgramNotYet otherwise); the earlier one stays readable."""
    require_program_editor(actor)
    programs.check_next_program(course_program(db, actor.scope), today)
    return programs.new_program(db, actor.scope, details)


def submit_program(
    db: Session, actor: Actor, program: Program, submitted_on: date | None = None, *, today: date
) -> None:
    """Send the application package to the Council (draft → submitted) on the day `submitted_on`: the plan as it
    stands is kept as the next numbered version. The day is one that has come, not before the program was set up nor
    before the previous version was withdrawn (InvalidInput on `submitted_on`); None when the day is not known."""
    require_program_editor(actor)
    programs.lock(program)
    plan_versions.submit(db, program, submitted_on, today=today)


def withdraw_submission(db: Session, actor: Actor, program: Program, reason: str, *, today: date) -> None:
    """Take the submission back from the Council to change the plan (submitted → draft), with a reason kept in the
    program's history; the version sent is kept, and the changed plan is submitted as the next version."""
    require_program_editor(actor)
    programs.lock(program)
    program_history.withdraw(db, program, actor.membership, reason, today)


def approve_program(
    db: Session, actor: Actor, program: Program, letter_number: str, approved_on: date, *, today: date
) -> None:
    """Record the Council's approval by its letter (number, and date: the approval's date, which starts the program's
    year) against the version it approved (submitted → approved); from then on the plan never changes. A missing
    letter number, or a date to come or before the submission, is refused (InvalidInput on its field)."""
    require_program_editor(actor)
    programs.lock(program)
    plan_versions.approve(db, program, letter_number, approved_on, today=today)


def start_program(actor: Actor, program: Program, *, today: date) -> None:
    """Start the program (approved → running): its plan is the version the Council approved."""
    require_program_editor(actor)
    programs.lock(program)
    programs.start(program, today)


def end_program(actor: Actor, program: Program, *, today: date) -> None:
    """End the program, which opens the 30 days for certificates (running → ended)."""
    require_program_editor(actor)
    programs.lock(program)
    programs.end(program, today)


def request_certificates(actor: Actor, program: Program, *, today: date) -> None:
    """Request the participants' certificates from the Council (ended → certificates requested)."""
    require_program_editor(actor)
    programs.lock(program)
    programs.request_certificates(program, today)


def cancel_program(
    db: Session, actor: Actor, program: Program, details: CancellationDetails, *, today: date
) -> Cancellation:
    """Record the program's cancellation before it ends: by the agency or by the Council (with its letter), with a
    reason; it stays in the course's history and the course may set up a new one."""
    require_program_editor(actor)
    programs.lock(program)
    return cancellations.cancel(db, program, actor.membership, details, today)


def reopen_program(db: Session, actor: Actor, program: Program, reason: str, *, today: date) -> None:
    """Undo an end, with a reason, while no certificate stands and the program's year runs (ended → running)."""
    require_program_editor(actor)
    programs.lock(program)
    program_history.reopen(db, program, actor.membership, reason, today)


def correct_approval_date(
    db: Session,
    actor: Actor,
    program: Program,
    approved_on: date,
    reason: str,
    *,
    today: date,
    letter_number: str | None = None,
) -> None:
    """Correct the Council's approval date, and the number of its letter when given (or record it for a program
    approved before letters were kept), with a reason kept in the program's history: one step for each value that
    changes (the date's step also when nothing else changes)."""
    require_program_editor(actor)
    programs.lock(program)
    letter = None
    if letter_number is not None:
        letter = program_history.correct_approval_letter(db, program, actor.membership, letter_number, reason)
    if letter is None or approved_on != program.approved_on:
        program_history.correct_approval_date(db, program, actor.membership, approved_on, reason, today)


@dataclass(frozen=True)
class TeamPlan:
    """A team as the application package lists it: its name, its facilitator's name, and per member their name and
    their role per planned cycle ("model", "buddy" or "" when none is planned)."""

    name: str
    facilitator: str
    rows: list[tuple[str, list[str]]]


def plan_by_team(db: Session, program: Program) -> list[TeamPlan]:
    """The program's teams with the planned role of every member in every cycle. Once the plan was sent to the
    Council it is the version followed (awaiting the Council, or approved), as it was sent: names and teams as the
    Council read them, whatever changed in the LMS since; a draft's plan is the plan as it is now."""
    version = plan_versions.followed_version(db, program)
    if version is not None:
        return _plan_from_snapshot(version.snapshot)
    names = {m.id: m.person.name or m.person.sub for m in course_members(db, program.context_id)}
    teams = []
    for team in program.teams:
        rows = [
            (names.get(member_id, str(member_id)), [
                (role.value if (role := role_in_cycle(team, n, member_id)) else "")
                for n in range(1, program.planned_cycles + 1)
            ])
            for member_id in team.member_ids
        ]  # fmt: skip
        facilitator = names.get(team.facilitator_id, "") if team.facilitator_id else ""
        teams.append(TeamPlan(team.name, facilitator, rows))
    return teams


def _plan_from_snapshot(snapshot: dict[str, Any]) -> list[TeamPlan]:
    """A plan version's teams as the application lists them (see models.plan_versions.plan_snapshot)."""
    cycles = int(snapshot["details"]["planned_cycles"])
    teams = []
    for team in snapshot["teams"]:
        by_cycle = {r["cycle"]: (r["model"], set(r["buddies"])) for r in team["roles"]}
        rows = [
            (m["name"], [_snapshot_role(by_cycle, m["id"], n) for n in range(1, cycles + 1)]) for m in team["members"]
        ]
        teams.append(TeamPlan(team["name"], team["facilitator"], rows))
    return teams


def _snapshot_role(by_cycle: dict[int, tuple[int | None, set[int]]], member_id: int, number: int) -> str:
    model, buddies = by_cycle.get(number, (None, set()))
    return PlcRole.MODEL.value if member_id == model else PlcRole.BUDDY.value if member_id in buddies else ""
