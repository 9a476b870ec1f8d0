"""PLC programs as the Teachers' Council runs them (seed 004): states, teams and their frozen plan, cycles, element
sessions, Buddy observations, reflections and their grades. Rules only; the caller owns the transaction."""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple, TypeVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    Select,
    String,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, utcnow
from models.people import Context, Membership
from models.roles import AppRole
from models.rotation import Rotation, rotation_gaps

MIN_CYCLES = 3  # seed 004 §2.3
# Not the Council's: a program of more cycles than this cannot fit its one year (a cycle is five meetings and a lesson).
MAX_CYCLES = 12
ELEMENT_NUMBERS = (1, 2, 3, 4, 5)  # seed 004 §2.2; their names are in config/plc.json
MAX_SESSION_HOURS = Decimal(24)
CERTIFICATE_WINDOW = timedelta(days=30)  # seed 004 §3.3
# Program dates are Thai calendar days; Thailand keeps UTC+7 all year.
THAI_TIME = timezone(timedelta(hours=7), "Asia/Bangkok")


class ProgramState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RUNNING = "running"
    ENDED = "ended"
    CERTIFICATES_REQUESTED = "certificates_requested"
    CANCELLED = "cancelled"


class PlcRole(enum.StrEnum):
    MODEL = "model"  # ครูผู้สอน (Model Teacher): teaches the lesson the team designed
    BUDDY = "buddy"  # ครูร่วมการเรียนรู้ (Buddy Teacher): observes it and records what students did


# The plan (teams, members, roles per cycle, the program's details) may change only before the program starts.
PLAN_EDITABLE = frozenset({ProgramState.DRAFT, ProgramState.SUBMITTED, ProgramState.APPROVED})
NOT_YET_APPROVED = frozenset({ProgramState.DRAFT, ProgramState.SUBMITTED})
CANCELLABLE = PLAN_EDITABLE | {ProgramState.RUNNING}


# --- Refusals ---------------------------------------------------------------------------------------------------


class Problem(NamedTuple):
    """One thing wrong with submitted input, for the edge to show beside its field."""

    field: str
    code: str
    params: dict[str, Any]


class Notice(NamedTuple):
    """Something allowed but worth saying, such as an element recorded out of the Council's order."""

    code: str
    params: dict[str, Any]


class ProgramError(Exception):
    """A rule refused the change; `code` and `params` let the edge explain it in Thai or English."""

    code: ClassVar[str] = "program_error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params


class ProgramStateError(ProgramError):
    code = "wrong_state"

    def __init__(self, current: ProgramState, wanted: ProgramState, message: str = "") -> None:
        super().__init__(message or f"a {current} program cannot become {wanted}", current=current, wanted=wanted)
        self.current = current
        self.wanted = wanted


class ApprovalRequired(ProgramStateError):
    """Nothing may start or be recorded before the Council approves (seed 004 §3.2)."""

    code = "approval_required"


class ProgramExpired(ProgramError):
    """The program is past one year from its approval (seed 004 §2.5)."""

    code = "program_expired"

    def __init__(self, approved_on: date, last_day: date, today: date) -> None:
        super().__init__(
            f"the program was approved on {approved_on}; its year ended on {last_day} and today is {today}",
            approved_on=approved_on,
            last_day=last_day,
            today=today,
        )


class CertificateWindowClosed(ProgramError):
    """Certificates are requested within 30 days after the program ends (seed 004 §3.3)."""

    code = "certificate_window_closed"

    def __init__(self, ended_on: date, last_day: date, today: date) -> None:
        super().__init__(
            f"the program ended on {ended_on}; certificates could be requested until {last_day}, not on {today}",
            ended_on=ended_on,
            last_day=last_day,
            today=today,
        )


class PlanFrozen(ProgramError):
    """The plan is not changed once the program runs (seed 004 §2.6)."""

    code = "plan_frozen"

    def __init__(self, state: ProgramState) -> None:
        super().__init__(f"the plan of a {state} program is frozen", state=state)


class PlanGap(NamedTuple):
    """A gap in a program's plan; `team_id` is None when it concerns the program as a whole."""

    team_id: int | None
    code: str
    params: dict[str, Any]


class PlanIncomplete(ProgramError):
    """Starting would freeze a plan in which someone never plays a role (seed 004 §2.4)."""

    code = "plan_incomplete"

    def __init__(self, gaps: list[PlanGap]) -> None:
        super().__init__(f"the plan does not give every member both roles: {gaps}", gaps=gaps)
        self.gaps = gaps


class CycleBeyondPlan(ProgramError):
    code = "cycle_beyond_plan"

    def __init__(self, number: int, planned: int) -> None:
        super().__init__(f"cycle {number} is outside the plan of cycles 1 to {planned}", cycle=number, planned=planned)


class NotInCourse(ProgramError):
    code = "not_in_course"

    def __init__(self, membership_id: int) -> None:
        super().__init__(f"membership {membership_id} is not in this program's course", membership_id=membership_id)


class NotATeamMember(ProgramError):
    code = "not_a_team_member"

    def __init__(self, membership_id: int, team: str) -> None:
        super().__init__(f"membership {membership_id} is not in team {team!r}", membership_id=membership_id, team=team)


class AlreadyInTeam(ProgramError):
    """A teacher belongs to one team per program."""

    code = "already_in_team"

    def __init__(self, membership_id: int, team: str) -> None:
        super().__init__(
            f"membership {membership_id} is already in team {team!r}", membership_id=membership_id, team=team
        )


class MemberInactive(ProgramError):
    """The platform lists this person as Inactive in the course (LTI NRPS): they join no new team."""

    code = "member_inactive"

    def __init__(self, membership_id: int, name: str) -> None:
        super().__init__(
            f"membership {membership_id} is inactive in the course", membership_id=membership_id, name=name
        )


class NotABuddy(ProgramError):
    """Only a Buddy of the cycle observes its Model Teacher's lesson."""

    code = "not_a_buddy"

    def __init__(self, membership_id: int, cycle: int) -> None:
        super().__init__(
            f"membership {membership_id} is not a Buddy in cycle {cycle}", membership_id=membership_id, cycle=cycle
        )


class NotYourObservation(ProgramError):
    """Only the Buddy who wrote it, the Model Teacher observed and the course's trainers read an observation."""

    code = "not_your_observation"

    def __init__(self, membership_id: int, observation_id: int) -> None:
        super().__init__(
            f"membership {membership_id} may not read observation {observation_id}",
            membership_id=membership_id,
            observation_id=observation_id,
        )


class NotATrainer(ProgramError):
    code = "not_a_trainer"

    def __init__(self, role: AppRole) -> None:
        super().__init__(f"only a trainer grades reflections, not a {role}", role=role)


class ReflectionGraded(ProgramError):
    """A graded reflection is kept as graded; the teacher writes no new version under the grade."""

    code = "reflection_graded"

    def __init__(self, reflection_id: int) -> None:
        super().__init__(f"reflection {reflection_id} is graded and can no longer change", reflection_id=reflection_id)


class NotFoundInCourse(ProgramError):
    code = "not_found"

    def __init__(self, entity: str, entity_id: int) -> None:
        super().__init__(f"no {entity} {entity_id} in this course", entity=entity, entity_id=entity_id)


class InvalidInput(ProgramError):
    """Input that breaks a rule, field by field; nothing was written."""

    code = "invalid_input"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.code} {p.params}" for p in problems), problems=problems)
        self.problems = problems


# --- Tables -----------------------------------------------------------------------------------------------------


def _values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


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
            values_callable=_values,
        ),
        default=ProgramState.DRAFT,
    )
    approved_on: Mapped[date | None] = mapped_column(default=None)
    started_on: Mapped[date | None] = mapped_column(default=None)
    ended_on: Mapped[date | None] = mapped_column(default=None)
    certificates_requested_on: Mapped[date | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    teams: Mapped[list[Team]] = relationship(back_populates="program", cascade="all, delete-orphan", order_by="Team.id")

    @property
    def last_day(self) -> date | None:
        """The last day of the program year, or None before approval."""
        return last_day_of_program(self.approved_on) if self.approved_on else None


class Team(Base):
    """A PLC team (กลุ่ม PLC) of a program, with the member who facilitates it."""

    __tablename__ = "plc_teams"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship(back_populates="teams")
    facilitator: Mapped[Membership | None] = relationship()
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="TeamMember.id"
    )
    assignments: Mapped[list[CycleAssignment]] = relationship(
        back_populates="team",
        cascade="all, delete-orphan",
        order_by="(CycleAssignment.cycle_number, CycleAssignment.id)",
    )
    cycles: Mapped[list[Cycle]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="Cycle.number"
    )

    @property
    def member_ids(self) -> list[int]:
        return [m.membership_id for m in self.members]


class TeamMember(Base):
    __tablename__ = "plc_team_members"
    __table_args__ = (UniqueConstraint("team_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)

    team: Mapped[Team] = relationship(back_populates="members")
    membership: Mapped[Membership] = relationship()


class CycleAssignment(Base):
    """A member's planned role in one cycle of their team."""

    __tablename__ = "plc_cycle_assignments"
    __table_args__ = (
        UniqueConstraint("team_id", "cycle_number", "membership_id"),
        CheckConstraint("cycle_number >= 1", name="cycle_number_positive"),
        # One Model Teacher per team and cycle.
        Index(
            "uq_plc_cycle_assignments_one_model",
            "team_id",
            "cycle_number",
            unique=True,
            sqlite_where=text("role = 'model'"),
            postgresql_where=text("role = 'model'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    cycle_number: Mapped[int]
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    role: Mapped[PlcRole] = mapped_column(
        Enum(PlcRole, name="plc_role", native_enum=False, create_constraint=True, length=16, values_callable=_values)
    )

    team: Mapped[Team] = relationship(back_populates="assignments")


class Cycle(Base):
    """One cycle (วงรอบ) of a team, aimed at a student learning problem so results sit beside PLC work."""

    __tablename__ = "plc_cycles"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"))
    number: Mapped[int]
    problem: Mapped[str] = mapped_column(Text, default="")
    learning_area: Mapped[str] = mapped_column(String(255), default="")
    grade_level: Mapped[str] = mapped_column(String(64), default="")
    target_students: Mapped[str] = mapped_column(Text, default="")
    baseline: Mapped[str] = mapped_column(Text, default="")
    baseline_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 3), default=None)
    result: Mapped[str] = mapped_column(Text, default="")
    result_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 3), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    team: Mapped[Team] = relationship(back_populates="cycles")
    sessions: Mapped[list[ElementSession]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="(ElementSession.held_on, ElementSession.id)"
    )


class ElementSession(Base):
    """A meeting that worked on one of the Council's five elements in a cycle."""

    __tablename__ = "plc_element_sessions"
    __table_args__ = (
        CheckConstraint("element BETWEEN 1 AND 5", name="element_1_to_5"),
        CheckConstraint("hours > 0 AND hours <= 24", name="hours_within_a_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("plc_cycles.id", ondelete="CASCADE"), index=True)
    element: Mapped[int]
    held_on: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cycle: Mapped[Cycle] = relationship(back_populates="sessions")
    attendance: Mapped[list[SessionAttendance]] = relationship(back_populates="session", cascade="all, delete-orphan")

    @property
    def attendee_ids(self) -> frozenset[int]:
        return frozenset(a.membership_id for a in self.attendance)


class SessionAttendance(Base):
    __tablename__ = "plc_session_attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("plc_element_sessions.id", ondelete="CASCADE"), primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True)

    session: Mapped[ElementSession] = relationship(back_populates="attendance")


class Observation(Base):
    """A Buddy's record of their Model Teacher's lesson: what students did and learned."""

    __tablename__ = "plc_observations"
    __table_args__ = (UniqueConstraint("cycle_id", "buddy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("plc_cycles.id", ondelete="CASCADE"))
    buddy_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    lesson: Mapped[str] = mapped_column(Text, default="")
    students_did: Mapped[str] = mapped_column(Text, default="")
    students_learned: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    # [{"student": "…", "note": "…"}, …]: what the Buddy saw of each student followed.
    student_notes: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    suggestions: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)

    cycle: Mapped[Cycle] = relationship()


class Reflection(Base):
    """A member's reflection on a cycle (element 5, reflection dialogue)."""

    __tablename__ = "plc_reflections"
    __table_args__ = (UniqueConstraint("cycle_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("plc_cycles.id", ondelete="CASCADE"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The LMS activity the teacher wrote it from: its gradebook column receives the grade (LTI AGS).
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="SET NULL"), default=None
    )

    cycle: Mapped[Cycle] = relationship()
    grades: Mapped[list[Grade]] = relationship(
        back_populates="reflection", cascade="all, delete-orphan", order_by="(Grade.graded_at, Grade.id)"
    )

    @property
    def current_grade(self) -> Grade | None:
        """The newest grade; earlier ones stay as the history of regrading."""
        return self.grades[-1] if self.grades else None


class Grade(Base):
    """A trainer's rubric grade of a reflection. Regrading adds a row; the newest is current."""

    __tablename__ = "plc_grades"
    __table_args__ = (
        CheckConstraint("max_score > 0", name="max_score_positive"),
        CheckConstraint("total >= 0 AND total <= max_score", name="total_within_max"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reflection_id: Mapped[int] = mapped_column(ForeignKey("plc_reflections.id", ondelete="CASCADE"), index=True)
    grader_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))
    rubric_id: Mapped[str] = mapped_column(String(64))
    scores: Mapped[dict[str, int | float]] = mapped_column(JSON, default=dict)  # criterion id → score
    total: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    comment: Mapped[str] = mapped_column(Text, default="")
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)

    reflection: Mapped[Reflection] = relationship(back_populates="grades")


# --- The course scope: every tenant query goes through `scoped` -------------------------------------------------


@dataclass(frozen=True)
class CourseScope:
    """The platform and course of the session; a program and all that hangs off it belong to exactly one."""

    platform_id: int
    context_id: int


T = TypeVar("T", bound=Base)

# How each table reaches its program.
_PATH_TO_PROGRAM: dict[type[Base], tuple[Any, ...]] = {
    Program: (),
    Team: (Team.program,),
    TeamMember: (TeamMember.team, Team.program),
    CycleAssignment: (CycleAssignment.team, Team.program),
    Cycle: (Cycle.team, Team.program),
    ElementSession: (ElementSession.cycle, Cycle.team, Team.program),
    Observation: (Observation.cycle, Cycle.team, Team.program),
    Reflection: (Reflection.cycle, Cycle.team, Team.program),
    Grade: (Grade.reflection, Reflection.cycle, Cycle.team, Team.program),
}


def register_scope_path(entity: type[Base], path: tuple[Any, ...]) -> None:
    """Teach `scoped` how a table defined in another module reaches its program (relationships, in order)."""
    _PATH_TO_PROGRAM[entity] = path


def scoped(entity: type[T], scope: CourseScope) -> Select[T]:
    """`select(entity)` limited to one platform's course; add filters and ordering to it."""
    statement = select(entity)
    for relation in _PATH_TO_PROGRAM[entity]:
        statement = statement.join(relation)
    return statement.where(Program.platform_id == scope.platform_id, Program.context_id == scope.context_id)


def get_in_course(db: Session, scope: CourseScope, entity: type[T], entity_id: int) -> T:
    """One row by id, only if it belongs to the course; otherwise NotFoundInCourse (never another course's row)."""
    row = db.scalars(scoped(entity, scope).where(inspect(entity).primary_key[0] == entity_id)).one_or_none()
    if row is None:
        raise NotFoundInCourse(entity.__name__, entity_id)
    return row


# --- Dates ------------------------------------------------------------------------------------------------------


def program_day(moment: datetime) -> date:
    """The Thai calendar day of an aware moment: program dates and deadlines are Thai days."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime")
    return moment.astimezone(THAI_TIME).date()


def last_day_of_program(approved_on: date) -> date:
    """The last day of the year that the approval opens (seed 004 §2.5): the same date a year later, inclusive.

    Our reading follows how Thai law counts periods (Civil and Commercial Code §158–159): counting starts the day
    after approval and a year ends the day before the same date comes round again, so an approval on 9 July 2026
    allows work until 9 July 2027, and one on 29 February 2028 until 28 February 2029.
    """
    try:
        return approved_on.replace(year=approved_on.year + 1)
    except ValueError:  # 29 February
        return approved_on.replace(year=approved_on.year + 1, day=28)


def last_day_for_certificates(ended_on: date) -> date:
    """The 30th day after the program's end, inclusive (seed 004 §3.3, counted as in `last_day_of_program`)."""
    return ended_on + CERTIFICATE_WINDOW


# --- Program details and states ---------------------------------------------------------------------------------


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
            found.append(Problem("planned_cycles", "too_many_cycles", {"have": self.planned_cycles, "most": MAX_CYCLES}))
        if not self.min_hours.is_finite() or self.min_hours < 0:
            found.append(Problem("min_hours", "negative", {"have": self.min_hours}))
        elif _decimal_places(self.min_hours) > 2:
            found.append(Problem("min_hours", "too_precise", {"places": 2}))
        elif self.min_hours >= 10_000:
            found.append(Problem("min_hours", "too_many", {"have": self.min_hours, "most": 9999}))
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


def submit(program: Program) -> None:
    """Draft → submitted: the application package goes to the Council (seed 004 §3.1)."""
    _require_state(program, {ProgramState.DRAFT}, ProgramState.SUBMITTED)
    program.state = ProgramState.SUBMITTED


def approve(program: Program, on: date) -> None:
    """Submitted → approved on the date of the Council's approval, which starts the one-year clock."""
    if on is None:
        raise ApprovalRequired(program.state, ProgramState.APPROVED, "the Council's approval date is required")
    _require_state(program, {ProgramState.SUBMITTED}, ProgramState.APPROVED)
    program.state = ProgramState.APPROVED
    program.approved_on = on


def start(program: Program, today: date) -> None:
    """Approved → running, which freezes the plan; refused when the plan would leave someone without a role."""
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


# --- The plan: teams, members and roles per cycle ----------------------------------------------------------------


def check_plan_editable(program: Program) -> None:
    """Every change to the plan goes through here: once the program starts, the plan is frozen (seed 004 §2.6)."""
    if program.state not in PLAN_EDITABLE:
        raise PlanFrozen(program.state)


def add_team(db: Session, program: Program, name: str, facilitator_id: int | None = None) -> Team:
    check_plan_editable(program)
    if not name.strip():
        raise InvalidInput([Problem("name", "required", {})])
    if any(team.name == name for team in program.teams):
        raise InvalidInput([Problem("name", "taken", {"name": name})])
    if facilitator_id is not None:
        _course_membership(db, program, facilitator_id)
    team = Team(name=name, facilitator_id=facilitator_id)
    program.teams.append(team)
    db.flush()
    return team


def set_facilitator(db: Session, team: Team, membership_id: int | None) -> None:
    """The facilitator may be a trainer or a member of the team; a plan change like any other."""
    check_plan_editable(team.program)
    if membership_id is not None:
        _course_membership(db, team.program, membership_id)
    team.facilitator_id = membership_id


def remove_team(db: Session, team: Team) -> None:
    check_plan_editable(team.program)
    # Flush first: SQLAlchemy 2.1 tries to DELETE the team's still-pending rows by an id they do not have yet.
    db.flush()
    team.program.teams.remove(team)
    db.flush()


def add_team_member(db: Session, team: Team, membership_id: int) -> TeamMember:
    check_plan_editable(team.program)
    membership = _course_membership(db, team.program, membership_id)
    if not membership.is_active:
        raise MemberInactive(membership_id, membership.person.name or membership.person.sub)
    for other in team.program.teams:
        if membership_id in other.member_ids:
            raise AlreadyInTeam(membership_id, other.name)
    member = TeamMember(membership_id=membership_id)
    team.members.append(member)
    db.flush()
    return member


def remove_team_member(team: Team, membership_id: int) -> None:
    """Takes the member and their planned roles out of the team."""
    check_plan_editable(team.program)
    _require_member(team, membership_id)
    team.members = [m for m in team.members if m.membership_id != membership_id]
    team.assignments = [a for a in team.assignments if a.membership_id != membership_id]


def assign_cycle(team: Team, cycle_number: int, model_id: int, buddy_ids: Collection[int]) -> None:
    """Set who is the Model Teacher and who are the Buddies in one cycle, replacing what was planned."""
    check_plan_editable(team.program)
    _check_cycle_in_plan(team.program, cycle_number)
    for membership_id in (model_id, *buddy_ids):
        _require_member(team, membership_id)
    if model_id in buddy_ids:
        raise InvalidInput([Problem("buddies", "model_is_buddy", {"member_id": model_id})])
    team.assignments = [a for a in team.assignments if a.cycle_number != cycle_number]
    team.assignments.append(CycleAssignment(cycle_number=cycle_number, membership_id=model_id, role=PlcRole.MODEL))
    team.assignments.extend(
        CycleAssignment(cycle_number=cycle_number, membership_id=buddy, role=PlcRole.BUDDY)
        for buddy in dict.fromkeys(buddy_ids)
    )


def apply_rotation(team: Team, rotation: Rotation) -> None:
    """Replace the team's whole plan with a rotation (from `models.rotation.plan_rotation`)."""
    check_plan_editable(team.program)
    team.assignments = []
    for cycle_number, (model_id, buddy_ids) in sorted(rotation.items()):
        assign_cycle(team, cycle_number, model_id, buddy_ids)


def team_plan(team: Team) -> dict[int, tuple[int | None, list[int]]]:
    """The plan as the rotation planner writes it: cycle → (Model, Buddies); cycles without roles are absent."""
    plan: dict[int, tuple[int | None, list[int]]] = {}
    for assignment in team.assignments:
        model, buddies = plan.get(assignment.cycle_number, (None, []))
        if assignment.role is PlcRole.MODEL:
            model = assignment.membership_id
        else:
            buddies = [*buddies, assignment.membership_id]
        plan[assignment.cycle_number] = (model, buddies)
    return plan


def team_of(db: Session, scope: CourseScope, membership_id: int) -> Team | None:
    """The member's team in the course's newest program, if any (a teacher is in one team per program)."""
    return db.scalars(
        scoped(Team, scope)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.membership_id == membership_id)
        .order_by(Team.program_id.desc())
    ).first()


def role_in_cycle(team: Team, cycle_number: int, membership_id: int) -> PlcRole | None:
    for assignment in team.assignments:
        if assignment.cycle_number == cycle_number and assignment.membership_id == membership_id:
            return assignment.role
    return None


def plan_gaps(program: Program) -> list[PlanGap]:
    """What keeps the plan from the both-roles rule (seed 004 §2.4); empty when the program can start."""
    if not program.teams:
        return [PlanGap(None, "no_teams", {})]
    gaps: list[PlanGap] = []
    for team in program.teams:
        if len(team.members) < 2:
            gaps.append(PlanGap(team.id, "team_too_small", {"team_size": len(team.members), "need": 2}))
        gaps.extend(
            PlanGap(team.id, gap.code, gap.params)
            for gap in rotation_gaps(team.member_ids, program.planned_cycles, team_plan(team))
        )
    return gaps


def _check_cycle_in_plan(program: Program, cycle_number: int) -> None:
    if not 1 <= cycle_number <= program.planned_cycles:
        raise CycleBeyondPlan(cycle_number, program.planned_cycles)


def _require_member(team: Team, membership_id: int) -> None:
    if membership_id not in team.member_ids:
        raise NotATeamMember(membership_id, team.name)


def _course_membership(db: Session, program: Program, membership_id: int) -> Membership:
    membership = db.get(Membership, membership_id)
    if membership is None or membership.context_id != program.context_id:
        raise NotInCourse(membership_id)
    return membership


# --- Cycles and element sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleTarget:
    """The student learning problem a cycle targets, and how it is measured before and after (seed 001)."""

    problem: str = ""
    learning_area: str = ""
    grade_level: str = ""
    target_students: str = ""
    baseline: str = ""
    baseline_value: Decimal | None = None


def open_cycle(db: Session, team: Team, number: int, today: date) -> Cycle:
    """The team's cycle `number`, created on first use while the program runs."""
    check_recording_allowed(team.program, today)
    _check_cycle_in_plan(team.program, number)
    for cycle in team.cycles:
        if cycle.number == number:
            return cycle
    cycle = Cycle(number=number)
    team.cycles.append(cycle)
    db.flush()
    return cycle


def set_cycle_target(cycle: Cycle, target: CycleTarget, today: date) -> None:
    check_recording_allowed(cycle.team.program, today)
    for item in fields(target):
        setattr(cycle, item.name, getattr(target, item.name))


def record_cycle_result(cycle: Cycle, result: str, value: Decimal | None, today: date) -> None:
    check_recording_allowed(cycle.team.program, today)
    cycle.result = result
    cycle.result_value = value


def session_problems(
    program: Program,
    *,
    cycle_number: int,
    element: int,
    held_on: date,
    hours: Decimal,
    attendee_ids: Collection[int],
    team_member_ids: Collection[int],
    today: date,
) -> list[Problem]:
    """Everything wrong with a session as entered, field by field (empty when it may be recorded)."""
    found: list[Problem] = []
    if not 1 <= cycle_number <= program.planned_cycles:
        found.append(Problem("cycle", "beyond_plan", {"cycle": cycle_number, "planned": program.planned_cycles}))
    if element not in ELEMENT_NUMBERS:
        found.append(Problem("element", "unknown", {"element": element}))
    if not hours.is_finite() or hours <= 0:
        found.append(Problem("hours", "not_positive", {"hours": hours}))
    elif hours > MAX_SESSION_HOURS:
        found.append(Problem("hours", "more_than_a_day", {"hours": hours, "most": MAX_SESSION_HOURS}))
    elif _decimal_places(hours) > 2:
        found.append(Problem("hours", "too_precise", {"places": 2}))
    if program.approved_on is None:
        found.append(Problem("held_on", "before_approval", {"held_on": held_on, "approved_on": None}))
    elif held_on < program.approved_on:
        found.append(Problem("held_on", "before_approval", {"held_on": held_on, "approved_on": program.approved_on}))
    elif held_on > last_day_of_program(program.approved_on):
        found.append(
            Problem(
                "held_on",
                "after_program_year",
                {"held_on": held_on, "last_day": last_day_of_program(program.approved_on)},
            )
        )
    elif held_on > today:
        found.append(Problem("held_on", "in_the_future", {"held_on": held_on, "today": today}))
    if not attendee_ids:
        found.append(Problem("attendees", "none_present", {}))
    strangers = sorted(set(attendee_ids) - set(team_member_ids))
    if strangers:
        found.append(Problem("attendees", "not_in_team", {"membership_ids": strangers}))
    return found


@dataclass(frozen=True)
class RecordedSession:
    session: ElementSession
    notices: list[Notice] = field(default_factory=list)


def record_session(
    db: Session,
    team: Team,
    *,
    cycle_number: int,
    element: int,
    held_on: date,
    hours: Decimal,
    attendee_ids: Collection[int],
    recorded_by_id: int,
    today: date,
    notes: str = "",
) -> RecordedSession:
    """Record one element's session. An element recorded before the ones listed ahead of it is kept, with a
    warning: the Council lists the five elements without mandating an order."""
    program = team.program
    check_recording_allowed(program, today)
    _course_membership(db, program, recorded_by_id)
    problems = session_problems(
        program,
        cycle_number=cycle_number,
        element=element,
        held_on=held_on,
        hours=hours,
        attendee_ids=attendee_ids,
        team_member_ids=team.member_ids,
        today=today,
    )
    if problems:
        raise InvalidInput(problems)
    cycle = open_cycle(db, team, cycle_number, today)
    recorded = {s.element for s in cycle.sessions}
    missing = [n for n in ELEMENT_NUMBERS if n < element and n not in recorded]
    session = ElementSession(element=element, held_on=held_on, hours=hours, notes=notes, created_by_id=recorded_by_id)
    session.attendance = [SessionAttendance(membership_id=m) for m in sorted(set(attendee_ids))]
    cycle.sessions.append(session)
    db.flush()
    notices = [Notice("element_out_of_order", {"element": element, "missing": missing})] if missing else []
    return RecordedSession(session, notices)


def may_record_for_team(viewer: Membership, team: Team) -> bool:
    """Members and the facilitator record their team's sessions; the course's trainers may record for any team."""
    if viewer.context_id != team.program.context_id:
        return False
    return viewer.id in team.member_ids or viewer.id == team.facilitator_id or viewer.app_role == AppRole.TRAINER


def may_read_team(viewer: Membership, team: Team) -> bool:
    """A team's members and facilitator, and the course's trainers and (supporting, read-only) administrators."""
    if viewer.context_id != team.program.context_id:
        return False
    return may_record_for_team(viewer, team) or viewer.app_role == AppRole.ADMIN


# --- Buddy observations -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservationForm:
    """The Buddy-observation form: the lesson, what students did and learned, evidence, notes, suggestions."""

    lesson: str
    students_did: str
    students_learned: str
    evidence: str = ""
    student_notes: list[dict[str, str]] = field(default_factory=list)
    suggestions: str = ""


def submit_observation(
    db: Session, team: Team, cycle_number: int, buddy_id: int, form: ObservationForm, now: datetime
) -> Observation:
    """A Buddy's observation of the cycle's Model Teacher; submitting again replaces the Buddy's earlier text."""
    check_recording_allowed(team.program, program_day(now))
    plan = team_plan(team).get(cycle_number, (None, []))
    model_id, buddy_ids = plan
    if buddy_id not in buddy_ids or model_id is None:
        raise NotABuddy(buddy_id, cycle_number)
    cycle = open_cycle(db, team, cycle_number, program_day(now))
    observation = db.scalars(
        select(Observation).where(Observation.cycle_id == cycle.id, Observation.buddy_id == buddy_id)
    ).one_or_none()
    if observation is None:
        observation = Observation(cycle=cycle, buddy_id=buddy_id)
        db.add(observation)
    observation.model_id = model_id
    for item in fields(form):
        setattr(observation, item.name, getattr(form, item.name))
    observation.submitted_at = now
    db.flush()
    return observation


def may_read_observation(viewer: Membership, observation: Observation) -> bool:
    """The Buddy who wrote it, the Model Teacher observed, and trainers of the observation's course."""
    if viewer.context_id != observation.cycle.team.program.context_id:
        return False
    return viewer.id in (observation.buddy_id, observation.model_id) or viewer.app_role == AppRole.TRAINER


def open_observation(db: Session, scope: CourseScope, viewer: Membership, observation_id: int) -> Observation:
    """The observation, if the viewer may read it (NotYourObservation otherwise)."""
    observation = get_in_course(db, scope, Observation, observation_id)
    if not may_read_observation(viewer, observation):
        raise NotYourObservation(viewer.id, observation_id)
    return observation


def observations_for(db: Session, scope: CourseScope, viewer: Membership) -> list[Observation]:
    """The course's observations that the viewer may read, by cycle."""
    rows = db.scalars(scoped(Observation, scope).order_by(Cycle.team_id, Cycle.number, Observation.id))
    return [o for o in rows if may_read_observation(viewer, o)]


# --- Reflections and grades -------------------------------------------------------------------------------------


def submit_reflection(
    db: Session, team: Team, cycle_number: int, membership_id: int, text: str, now: datetime
) -> Reflection:
    """A member's reflection on a cycle; it may be rewritten until a trainer grades it."""
    check_recording_allowed(team.program, program_day(now))
    _require_member(team, membership_id)
    if not text.strip():
        raise InvalidInput([Problem("text", "required", {})])
    cycle = open_cycle(db, team, cycle_number, program_day(now))
    reflection = db.scalars(
        select(Reflection).where(Reflection.cycle_id == cycle.id, Reflection.membership_id == membership_id)
    ).one_or_none()
    if reflection is None:
        reflection = Reflection(cycle=cycle, membership_id=membership_id)
        db.add(reflection)
    elif reflection.grades:
        raise ReflectionGraded(reflection.id)
    reflection.text = text
    reflection.submitted_at = now
    db.flush()
    return reflection


def grade_problems(scores: Mapping[str, Decimal | int], max_score: Decimal | int) -> list[Problem]:
    found: list[Problem] = []
    if not scores:
        found.append(Problem("scores", "required", {}))
    for criterion, score in scores.items():
        if not Decimal(score).is_finite() or score < 0:
            found.append(Problem("scores", "negative", {"criterion": criterion, "score": score}))
    if not Decimal(max_score).is_finite() or max_score <= 0:
        found.append(Problem("max_score", "not_positive", {"max_score": max_score}))
    elif not found and (total := _total(scores)) > max_score:
        found.append(Problem("scores", "above_max", {"total": total, "max_score": max_score}))
    return found


def _total(scores: Mapping[str, Decimal | int]) -> Decimal:
    return sum((Decimal(score) for score in scores.values()), Decimal(0))


def grade_reflection(
    db: Session,
    reflection: Reflection,
    *,
    grader_id: int,
    grader_role: AppRole,
    rubric_id: str,
    scores: Mapping[str, Decimal | int],
    max_score: Decimal | int,
    comment: str = "",
    now: datetime,
) -> Grade:
    """A trainer's grade. Regrading adds a new row; the newest is current and the earlier ones stay as history."""
    if grader_role != AppRole.TRAINER:
        raise NotATrainer(grader_role)
    _course_membership(db, reflection.cycle.team.program, grader_id)
    if problems := grade_problems(scores, max_score):
        raise InvalidInput(problems)
    grade = Grade(
        grader_id=grader_id,
        rubric_id=rubric_id,
        scores={criterion: _json_number(score) for criterion, score in scores.items()},
        total=_total(scores),
        max_score=Decimal(max_score),
        comment=comment,
        graded_at=now,
    )
    reflection.grades.append(grade)
    db.flush()
    return grade


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _json_number(score: Decimal | int) -> int | float:
    value = Decimal(score)
    return int(value) if value == value.to_integral_value() else float(value)
