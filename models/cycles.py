"""A team's cycles (วงรอบ) and the element sessions recorded in them, with who attended."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models import curriculum, measures
from models.base import Base, decimal_places, utcnow
from models.calendar import last_day_of_program
from models.errors import InvalidInput, Notice, Problem, ProgramError
from models.programs import Program, check_cycle_in_plan, check_recording_allowed, course_membership
from models.scope import register_scope_path
from models.teams import Team

ELEMENT_NUMBERS = (1, 2, 3, 4, 5)  # seed 004 §2.2; their names are in config/plc.json
MAX_SESSION_HOURS = Decimal(24)


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
    # The measure (models/measures.py): what is measured, how (a kind, "" before measures were stated), the N of a
    # mean score, and how many pupils the target is for; baseline and result values are in that measure.
    measure: Mapped[str] = mapped_column(Text, default="", server_default="")
    measure_kind: Mapped[str] = mapped_column(String(16), default="", server_default="")
    measure_out_of: Mapped[Decimal | None] = mapped_column(Numeric(12, 3), default=None)
    pupils: Mapped[int | None] = mapped_column(default=None)
    baseline: Mapped[str] = mapped_column(Text, default="")
    baseline_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 3), default=None)
    result: Mapped[str] = mapped_column(Text, default="")
    result_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 3), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    team: Mapped[Team] = relationship(back_populates="cycles")
    # The cycle's live sessions: a withdrawn one stays in the table (and in its history) but counts nowhere.
    sessions: Mapped[list[ElementSession]] = relationship(
        back_populates="cycle",
        cascade="all, delete-orphan",
        primaryjoin="and_(Cycle.id == ElementSession.cycle_id, ElementSession.withdrawn_at.is_(None))",
        order_by="(ElementSession.held_on, ElementSession.id)",
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
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)

    cycle: Mapped[Cycle] = relationship(back_populates="sessions")
    attendance: Mapped[list[SessionAttendance]] = relationship(back_populates="session", cascade="all, delete-orphan")

    @property
    def attendee_ids(self) -> frozenset[int]:
        return frozenset(a.membership_id for a in self.attendance)


class SessionAttendance(Base):
    __tablename__ = "plc_session_attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("plc_element_sessions.id", ondelete="CASCADE"), primary_key=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True)
    # The id of this attendee's `attended` statement, so that a correction or withdrawal voids exactly that one.
    statement_id: Mapped[str | None] = mapped_column(String(36), default=None)

    session: Mapped[ElementSession] = relationship(back_populates="attendance")


# Every reader of sessions filters by this (or reads `Cycle.sessions`, which does): a withdrawn session counts nowhere.
SESSION_IS_LIVE = ElementSession.withdrawn_at.is_(None)


class PossibleDuplicate(ProgramError):
    """A live session of the same team, cycle, element and date is already recorded: the team opens it, or records
    this one anyway on purpose."""

    code = "possible_duplicate"

    def __init__(self, existing: list[ElementSession]) -> None:
        super().__init__(
            f"sessions {[s.id for s in existing]} are already recorded for this cycle, element and date",
            session_ids=[s.id for s in existing],
        )
        self.existing = existing


register_scope_path(Cycle, (Cycle.team, Team.program))
register_scope_path(ElementSession, (ElementSession.cycle, Cycle.team, Team.program))


@dataclass(frozen=True)
class CycleTarget:
    """The student learning problem a cycle targets, and how it is measured before and after (seed 001)."""

    problem: str = ""
    learning_area: str = ""
    grade_level: str = ""
    target_students: str = ""
    baseline: str = ""
    baseline_value: Decimal | None = None
    measure: str = ""
    measure_kind: str = ""
    measure_out_of: Decimal | None = None
    pupils: int | None = None

    def problems(self, result_value: Decimal | None = None) -> list[Problem]:
        """The learning area and grade off the curriculum lists, and a measure its values do not fit."""
        return [
            *curriculum.problems(self.learning_area, self.grade_level),
            *measures.problems(
                self.measure_kind,
                self.measure_out_of,
                self.pupils,
                {"baseline_value": self.baseline_value, "result_value": result_value},
            ),
        ]


def open_cycle(db: Session, team: Team, number: int, today: date) -> Cycle:
    """The team's cycle `number`, created on first use while the program runs."""
    check_recording_allowed(team.program, today)
    check_cycle_in_plan(team.program, number)
    for cycle in team.cycles:
        if cycle.number == number:
            return cycle
    cycle = Cycle(number=number)
    team.cycles.append(cycle)
    db.flush()
    return cycle


def set_cycle_target(cycle: Cycle, target: CycleTarget, today: date, result_value: Decimal | None = None) -> None:
    """Keep the target; `result_value` (the value the result will be, or None) is checked against its measure."""
    check_recording_allowed(cycle.team.program, today)
    if problems := target.problems(result_value):
        raise InvalidInput(problems)
    for item in fields(target):
        setattr(cycle, item.name, getattr(target, item.name))
    cycle.learning_area = curriculum.canonical_area(target.learning_area) or ""
    cycle.grade_level = curriculum.canonical_grade(target.grade_level) or ""


def record_cycle_result(cycle: Cycle, result: str, value: Decimal | None, today: date) -> None:
    check_recording_allowed(cycle.team.program, today)
    if problems := measures.problems(cycle.measure_kind, cycle.measure_out_of, cycle.pupils, {"result_value": value}):
        raise InvalidInput(problems)
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
    elif decimal_places(hours) > 2:
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
    check_duplicates: bool = False,
) -> RecordedSession:
    """Record one element's session. An element recorded before the ones listed ahead of it is kept, with a
    warning: the Council lists the five elements without mandating an order. A session like one already recorded
    (same team, cycle, element and date) is refused with PossibleDuplicate when `check_duplicates` (the team's form
    asks first; its "record anyway" posts again without the check)."""
    program = team.program
    check_recording_allowed(program, today)
    course_membership(db, program, recorded_by_id)
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
    if check_duplicates:
        existing = duplicates_of(db, team, cycle_number=cycle_number, element=element, held_on=held_on)
        if existing:
            raise PossibleDuplicate(existing)
    cycle = open_cycle(db, team, cycle_number, today)
    recorded = {s.element for s in cycle.sessions}
    missing = [n for n in ELEMENT_NUMBERS if n < element and n not in recorded]
    session = ElementSession(element=element, held_on=held_on, hours=hours, notes=notes, created_by_id=recorded_by_id)
    session.attendance = [SessionAttendance(membership_id=m) for m in sorted(set(attendee_ids))]
    cycle.sessions.append(session)
    db.flush()
    notices = [Notice("element_out_of_order", {"element": element, "missing": missing})] if missing else []
    return RecordedSession(session, notices)


def duplicates_of(
    db: Session, team: Team, *, cycle_number: int, element: int, held_on: date, other_than: int | None = None
) -> list[ElementSession]:
    """The team's live sessions of that cycle, element and date."""
    query = (
        select(ElementSession)
        .join(Cycle)
        .where(
            Cycle.team_id == team.id,
            Cycle.number == cycle_number,
            ElementSession.element == element,
            ElementSession.held_on == held_on,
            SESSION_IS_LIVE,
        )
        .order_by(ElementSession.id)
    )
    if other_than is not None:
        query = query.where(ElementSession.id != other_than)
    return list(db.scalars(query))


@dataclass(frozen=True)
class OffTheList:
    """A learning area or grade level not on the curriculum's lists: the program's (team None) or a cycle's."""

    team_id: int | None
    team_name: str
    number: int | None
    field: str
    text: str


def off_the_lists(db: Session, program: Program) -> list[OffTheList]:
    """The program's learning areas and grade levels that are not on the curriculum's lists (free text from before
    them, that migration 0028 left for a trainer to choose)."""
    found: list[OffTheList] = []
    for kind in (curriculum.LEARNING_AREA, curriculum.GRADE_LEVEL):
        if not curriculum.listed(kind, getattr(program, kind)):
            found.append(OffTheList(None, "", None, kind, getattr(program, kind)))
    rows = db.execute(
        select(Team.id, Team.name, Cycle.number, Cycle.learning_area, Cycle.grade_level)
        .join(Team, Team.id == Cycle.team_id)
        .where(Team.program_id == program.id)
        .order_by(Team.name, Cycle.number)
    )
    for team_id, team_name, number, area, grade in rows:
        for kind, text in ((curriculum.LEARNING_AREA, area), (curriculum.GRADE_LEVEL, grade)):
            if not curriculum.listed(kind, text):
                found.append(OffTheList(team_id, team_name, number, kind, text))
    return found
