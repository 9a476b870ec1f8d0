"""Members' reflections on a cycle and the trainers' rubric grades of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship
from sqlalchemy.sql.elements import BindParameter

from models.base import Base, utcnow
from models.calendar import program_day
from models.cycles import Cycle, open_cycle
from models.errors import InvalidInput, NotATrainer, Problem, ReflectionGraded
from models.plan import PlcRole
from models.programs import check_recording_allowed, course_membership
from models.roles import AppRole
from models.scope import register_scope_path
from models.teams import CycleAssignment, Team, require_member


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


register_scope_path(Reflection, (Reflection.cycle, Cycle.team, Team.program))
register_scope_path(Grade, (Grade.reflection, Reflection.cycle, Cycle.team, Team.program))


def own_reflection(
    db: Session, team: Team, cycle_number: int, membership_id: int
) -> tuple[Reflection | None, PlcRole | None]:
    """A member's reflection on cycle `cycle_number` of their team (None before they write one, or before the cycle
    opens), with its grades, and the role the plan gives them in that cycle, in one statement: a teacher's reflection
    page. `team` was read within the course, so what hangs from it is of the course too."""
    parameters = {"team_id": team.id, "number": cycle_number, "membership_id": membership_id}
    # A row per grade (the reflection's, joined): all of them read, so that its grades are all there.
    rows = db.execute(_own_reflection_query(), parameters).unique().all()
    return (rows[0][1], rows[0][0]) if rows else (None, None)  # none: the team went meanwhile (a draft plan)


@cache
def _own_reflection_query() -> Any:
    number: BindParameter[int] = bindparam("number")
    member: BindParameter[int] = bindparam("membership_id")
    role = (
        select(CycleAssignment.role)
        .where(
            CycleAssignment.team_id == Team.id,
            CycleAssignment.cycle_number == number,
            CycleAssignment.membership_id == member,
        )
        .scalar_subquery()
    )
    return (
        select(role, Reflection)
        .select_from(Team)
        .outerjoin(Cycle, (Cycle.team_id == Team.id) & (Cycle.number == number))
        .outerjoin(Reflection, (Reflection.cycle_id == Cycle.id) & (Reflection.membership_id == member))
        .where(Team.id == bindparam("team_id"))
        .options(joinedload(Reflection.grades))
    )


def submit_reflection(
    db: Session, team: Team, cycle_number: int, membership_id: int, text: str, now: datetime
) -> Reflection:
    """A member's reflection on a cycle; it may be rewritten until a trainer grades it."""
    check_recording_allowed(team.program, program_day(now))
    require_member(team, membership_id)
    if not text.strip():
        raise InvalidInput([Problem("text", "required", {})])
    cycle = open_cycle(db, team, cycle_number, program_day(now))
    reflection = (
        db.scalars(_reflection_with_grades(), {"cycle_id": cycle.id, "membership_id": membership_id})
        .unique()
        .one_or_none()
    )
    if reflection is None:
        reflection = Reflection(cycle=cycle, membership_id=membership_id)
        db.add(reflection)
    elif reflection.grades:
        raise ReflectionGraded(reflection.id)
    reflection.text = text
    reflection.submitted_at = now
    db.flush()
    return reflection


@cache
def _reflection_with_grades() -> Any:
    """A member's reflection on a cycle and its grades (whether it may still be rewritten), in one statement."""
    return (
        select(Reflection)
        .where(Reflection.cycle_id == bindparam("cycle_id"), Reflection.membership_id == bindparam("membership_id"))
        .options(joinedload(Reflection.grades))
    )


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
    course_membership(db, reflection.cycle.team.program, grader_id)
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


def _json_number(score: Decimal | int) -> int | float:
    value = Decimal(score)
    return int(value) if value == value.to_integral_value() else float(value)
