"""PLC programs as the Teachers' Council runs them (seed 004): the program, its details and its states from draft to
certificates requested, and what each state allows. Rules only; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship

from models import curriculum
from models.base import Base, decimal_places, enum_values, utcnow
from models.calendar import last_day_for_certificates, last_day_of_program, program_day
from models.catalog import default_target_competencies
from models.errors import (
    ApprovalDateAfterRecords,
    ApprovalDateInFuture,
    ApprovalRequired,
    CertificatesStand,
    CertificateWindowClosed,
    CycleBeyondPlan,
    InvalidInput,
    NextProgramNotYet,
    NotFoundInCourse,
    NotInCourse,
    PlanFrozen,
    PlanIncomplete,
    PlanSubmitted,
    Problem,
    ProgramExpired,
    ProgramStateError,
)
from models.people import Context, Membership
from models.plan import plan_gaps
from models.states import APPROVAL_CORRECTABLE, CANCELLABLE, NOT_YET_APPROVED, PLAN_EDITABLE, ProgramState

if TYPE_CHECKING:
    from models.scope import CourseScope
    from models.teams import Team

MIN_CYCLES = 3  # seed 004 §2.3
# Not the Council's: a program of more cycles than this cannot fit its one year (a cycle is five meetings and a lesson).
MAX_CYCLES = 12


class Program(Base):
    """A PLC program of one course: the unit the agency applies for, the Council approves and certifies."""

    __tablename__ = "plc_programs"
    __table_args__ = (
        CheckConstraint(f"planned_cycles >= {MIN_CYCLES}", name="planned_cycles_at_least_3"),
        CheckConstraint("min_hours >= 0", name="min_hours_not_negative"),
        Index("ix_plc_programs_course", "context_id", "platform_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    agency: Mapped[str] = mapped_column(String(255), default="")  # หน่วยงาน that runs it (seed 004 §1)
    # The agency's row (models/agencies.py); `agency` above keeps its name as certificates and reports copy it.
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("plc_agencies.id", ondelete="SET NULL"), default=None, index=True
    )
    school_or_network: Mapped[str] = mapped_column(String(255), default="")
    planned_cycles: Mapped[int] = mapped_column(default=MIN_CYCLES)
    min_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(0))
    learning_area: Mapped[str] = mapped_column(String(255), default="")
    grade_level: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[ProgramState] = mapped_column(
        Enum(
            ProgramState,
            name="program_state",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=enum_values,
        ),
        default=ProgramState.DRAFT,
    )
    submitted_on: Mapped[date | None] = mapped_column(default=None)  # None for a program submitted before 0011
    approved_on: Mapped[date | None] = mapped_column(default=None)
    started_on: Mapped[date | None] = mapped_column(default=None)
    ended_on: Mapped[date | None] = mapped_column(default=None)
    certificates_requested_on: Mapped[date | None] = mapped_column(default=None)
    # The OBEC competencies the program aims at, comma-separated codes (models/assessments.py reads them); seed 000
    # advises choosing them, and names C3, C4 and F5 as those PLC work develops.
    target_competencies: Mapped[str] = mapped_column(
        String(64), default=lambda: ",".join(default_target_competencies()), server_default="C3,C4,F5"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    teams: Mapped[list[Team]] = relationship(back_populates="program", cascade="all, delete-orphan", order_by="Team.id")

    @property
    def last_day(self) -> date | None:
        """The last day of the program year, or None before approval."""
        return last_day_of_program(self.approved_on) if self.approved_on else None


@dataclass(frozen=True)
class ProgramDetails:
    """What the trainer enters for a program (the Council's application form)."""

    name: str
    agency: str = ""
    school_or_network: str = ""
    planned_cycles: int = MIN_CYCLES
    min_hours: Decimal = Decimal(0)
    learning_area: str = ""
    grade_level: str = ""

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        if not self.name.strip():
            found.append(Problem("name", "required", {}))
        if self.planned_cycles < MIN_CYCLES:
            found.append(Problem("planned_cycles", "too_few", {"have": self.planned_cycles, "need": MIN_CYCLES}))
        elif self.planned_cycles > MAX_CYCLES:
            found.append(
                Problem("planned_cycles", "too_many_cycles", {"have": self.planned_cycles, "most": MAX_CYCLES})
            )
        if not self.min_hours.is_finite() or self.min_hours < 0:
            found.append(Problem("min_hours", "negative", {"have": self.min_hours}))
        elif decimal_places(self.min_hours) > 2:
            found.append(Problem("min_hours", "too_precise", {"places": 2}))
        elif self.min_hours >= 10_000:
            found.append(Problem("min_hours", "too_many", {"have": self.min_hours, "most": 9999}))
        found.extend(curriculum.problems(self.learning_area, self.grade_level))
        return found


def new_program(db: Session, scope: CourseScope, details: ProgramDetails) -> Program:
    """A draft program in the course."""
    context = db.get(Context, scope.context_id)
    if context is None or context.platform_id != scope.platform_id:
        raise NotFoundInCourse("course", scope.context_id)
    if problems := details.problems():
        raise InvalidInput(problems)
    program = Program(platform_id=scope.platform_id, context_id=scope.context_id, state=ProgramState.DRAFT)
    _apply_details(program, details)
    db.add(program)
    db.flush()
    return program


def edit_program(program: Program, details: ProgramDetails) -> None:
    check_plan_editable(program)
    if problems := details.problems():
        raise InvalidInput(problems)
    if details.planned_cycles < program.planned_cycles:
        for team in program.teams:  # a shorter plan drops the roles planned for the cycles it loses
            team.assignments = [a for a in team.assignments if a.cycle_number <= details.planned_cycles]
    _apply_details(program, details)


def _apply_details(program: Program, details: ProgramDetails) -> None:
    for item in fields(details):
        setattr(program, item.name, getattr(details, item.name))
    # A common spelling of a curriculum entry is kept as the entry itself (problems() refused any other text).
    program.learning_area = curriculum.canonical_area(details.learning_area) or ""
    program.grade_level = curriculum.canonical_grade(details.grade_level) or ""


def created_on(program: Program) -> date:
    """The Thai day the program was set up in the course."""
    created = program.created_at if program.created_at.tzinfo else program.created_at.replace(tzinfo=UTC)
    return program_day(created)


def submission_date_problems(program: Program, on: date, today: date | None = None) -> list[Problem]:
    """Why `on` cannot be the day the agency sent the application to the Council: a day to come (when `today` is
    known), or a day before the program was set up here."""
    if today is not None and on > today:
        return [Problem("submitted_on", "in_the_future", {"today": today})]
    if program.created_at is not None and on < (created := created_on(program)):
        return [Problem("submitted_on", "before_creation", {"created": created})]
    return []


def submit(program: Program, on: date | None = None, *, today: date | None = None) -> None:
    """Draft → submitted: the application package goes to the Council (seed 004 §3.1), on the day `on` when the
    caller knows it (the approval cannot come before it). The day is one that has come, not before the program was
    set up; None when it is not known (an application sent on paper before the program was set up here)."""
    _require_state(program, {ProgramState.DRAFT}, ProgramState.SUBMITTED)
    if on is not None and (problems := submission_date_problems(program, on, today)):
        raise InvalidInput(problems)
    program.state = ProgramState.SUBMITTED
    program.submitted_on = on


def withdraw(program: Program) -> None:
    """Submitted → draft: the agency takes its application back from the Council to change the plan (the version sent
    is kept by models.plan_versions); the plan is submitted again as a new version."""
    _require_state(program, {ProgramState.SUBMITTED}, ProgramState.DRAFT)
    program.state = ProgramState.DRAFT
    program.submitted_on = None


def approval_date_problems(program: Program, on: date, today: date) -> list[Problem]:
    """Why `on` cannot be the day the Council approved the program: a day to come, or before its submission."""
    if on > today:
        return [Problem("approved_on", "in_the_future", {"today": today})]
    if program.submitted_on is not None and on < program.submitted_on:
        return [Problem("approved_on", "before_submission", {"submitted": program.submitted_on})]
    return []


def approve(program: Program, on: date, *, today: date) -> None:
    """Submitted → approved on the date of the Council's approval, which starts the one-year clock. The date is a day
    that has come, not before the submission (a future date would only make the start refused later)."""
    if on is None:
        raise ApprovalRequired(program.state, ProgramState.APPROVED, "the Council's approval date is required")
    _require_state(program, {ProgramState.SUBMITTED}, ProgramState.APPROVED)
    if problems := approval_date_problems(program, on, today):
        raise InvalidInput(problems)
    program.state = ProgramState.APPROVED
    program.approved_on = on


def start(program: Program, today: date) -> None:
    """Approved → running (the plan is frozen since its submission); refused when the plan would leave someone without a role."""
    if program.state in NOT_YET_APPROVED:
        raise ApprovalRequired(program.state, ProgramState.RUNNING, "nothing may start before the Council approves")
    _require_state(program, {ProgramState.APPROVED}, ProgramState.RUNNING)
    approved_on = _approved_on(program)
    if today < approved_on:
        raise ApprovalRequired(
            program.state,
            ProgramState.RUNNING,
            f"the approval is dated {approved_on}; the program cannot start on {today}",
        )
    _check_not_expired(program, today)
    gaps = plan_gaps(program)
    if gaps:
        raise PlanIncomplete(gaps)
    program.state = ProgramState.RUNNING
    program.started_on = today


def end(program: Program, today: date) -> None:
    """Running → ended. A program ended late is ended as of the last day of its year, when the Council's year ran
    out: that is its end date and the start of the 30-day certificate window."""
    _require_state(program, {ProgramState.RUNNING}, ProgramState.ENDED)
    program.state = ProgramState.ENDED
    program.ended_on = min(today, last_day_of_program(_approved_on(program)))


def request_certificates(program: Program, today: date) -> None:
    """Ended → certificates requested, within 30 days after the end (seed 004 §3.3)."""
    _require_state(program, {ProgramState.ENDED}, ProgramState.CERTIFICATES_REQUESTED)
    assert program.ended_on is not None  # set by end()
    last_day = last_day_for_certificates(program.ended_on)
    if today > last_day:
        raise CertificateWindowClosed(program.ended_on, last_day, today)
    program.state = ProgramState.CERTIFICATES_REQUESTED
    program.certificates_requested_on = today


def cancel(program: Program) -> None:
    """Any state before ended → cancelled."""
    _require_state(program, CANCELLABLE, ProgramState.CANCELLED)
    program.state = ProgramState.CANCELLED


# The states of a course's current program that let the course set up its next one (a new program year): the agency
# is done with the Council, because it requested the certificates, or because the program ended and the 30 days to
# request them have passed. Before that the current program is still the course's work (a draft, submitted or
# approved one is edited instead; a running one is ended first; a cancelled one is not current at all).
NEXT_PROGRAM_AFTER = frozenset({ProgramState.CERTIFICATES_REQUESTED, ProgramState.ENDED})


def next_program_problem(current: Program | None, today: date) -> NextProgramNotYet | None:
    """Why the course cannot set up its next program today, or None when it can."""
    if current is None or current.state is ProgramState.CERTIFICATES_REQUESTED:
        return None
    if current.state is ProgramState.ENDED and current.ended_on is not None:
        last_day = last_day_for_certificates(current.ended_on)
        return None if today > last_day else NextProgramNotYet(current.state, last_day)
    return NextProgramNotYet(current.state, None)


def check_next_program(current: Program | None, today: date) -> None:
    """Refuse a new program while the course's current one is still its work (see NEXT_PROGRAM_AFTER)."""
    if (refused := next_program_problem(current, today)) is not None:
        raise refused


def reopen(program: Program, today: date, certificates_standing: int) -> None:
    """Ended → running again (a trainer undoing an end), while no certificate stands and the year has not run out."""
    _require_state(program, {ProgramState.ENDED}, ProgramState.RUNNING)
    if certificates_standing:
        raise CertificatesStand(certificates_standing)
    _check_not_expired(program, today)
    program.state = ProgramState.RUNNING
    program.ended_on = None


def check_approval_correctable(program: Program) -> None:
    """The Council's approval (its date, its letter's number) is corrected once recorded, until certificates are
    requested."""
    if program.state not in APPROVAL_CORRECTABLE or program.approved_on is None:
        raise ProgramStateError(program.state, ProgramState.APPROVED, "only a recorded approval date is corrected")


def correct_approval_date(program: Program, on: date, today: date, earliest_session: date | None) -> None:
    """Correct the Council's approval date after it was recorded: never in the future, and never after the program
    started or after a session it holds (they would fall before the approval)."""
    check_approval_correctable(program)
    if on > today:
        raise ApprovalDateInFuture(on, today)
    if program.submitted_on is not None and on < program.submitted_on:
        raise InvalidInput([Problem("approved_on", "before_submission", {"submitted": program.submitted_on})])
    earliest = min((d for d in (program.started_on, earliest_session) if d is not None), default=None)
    if earliest is not None and earliest < on:
        raise ApprovalDateAfterRecords(on, earliest)
    program.approved_on = on


def lock(program: Program) -> None:
    """Read the program again under a row lock (FOR UPDATE on PostgreSQL; SQLite has one writer at a time) before a
    change to its plan or its state, so that the check of its state and the change that follows are not raced by
    another request: two trainers submitting, approving or editing at once (seed 004 §2.6: what the Council approved
    is what runs)."""
    session = object_session(program)
    if session is not None and program.id is not None:
        session.flush()  # a refresh reads the row again: what this transaction changed so far is written first
        session.refresh(program, with_for_update=True)


def _require_state(program: Program, allowed_from: Collection[ProgramState], wanted: ProgramState) -> None:
    """Refuse the transition to `wanted` unless the program is in one of `allowed_from`."""
    if program.state not in allowed_from:
        raise ProgramStateError(program.state, wanted)


def _approved_on(program: Program) -> date:
    if program.approved_on is None:
        raise ApprovalRequired(program.state, ProgramState.APPROVED, "the program has no approval date")
    return program.approved_on


def _check_not_expired(program: Program, today: date) -> None:
    approved_on = _approved_on(program)
    last_day = last_day_of_program(approved_on)
    if today > last_day:
        raise ProgramExpired(approved_on, last_day, today)


def check_recording_allowed(program: Program, today: date) -> None:
    """Sessions, observations, reflections and cycle records are written only while the program runs, within its
    year (seed 004 §2.5, §3.2)."""
    if program.state in NOT_YET_APPROVED:
        raise ApprovalRequired(
            program.state, ProgramState.RUNNING, "nothing may be recorded before the Council approves"
        )
    if program.state is not ProgramState.RUNNING:
        raise ProgramStateError(program.state, ProgramState.RUNNING, f"a {program.state} program takes no records")
    _check_not_expired(program, today)


def is_expired(program: Program, today: date) -> bool:
    """Whether the program's year is over (the trainer should end it)."""
    return program.approved_on is not None and today > last_day_of_program(program.approved_on)


def check_plan_editable(program: Program) -> None:
    """Every change to the plan goes through here: only a draft changes. A submitted plan is kept as sent (withdraw
    the submission to change it); once approved it never changes (seed 004 §2.6)."""
    if program.state is ProgramState.SUBMITTED:
        raise PlanSubmitted(program.state)
    if program.state not in PLAN_EDITABLE:
        raise PlanFrozen(program.state)


def check_cycle_in_plan(program: Program, cycle_number: int) -> None:
    if not 1 <= cycle_number <= program.planned_cycles:
        raise CycleBeyondPlan(cycle_number, program.planned_cycles)


def course_membership(db: Session, program: Program, membership_id: int) -> Membership:
    """The membership, if it is in the program's course (NotInCourse otherwise)."""
    membership = db.get(Membership, membership_id)
    if membership is None or membership.context_id != program.context_id:
        raise NotInCourse(membership_id)
    return membership
