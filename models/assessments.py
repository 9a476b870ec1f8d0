"""Competency assessments: at a program's start and end each teacher rates themself on the program's target
competencies against the scale's level descriptions (models/catalog.py, config/competencies.json); a trainer may add
their own rating of a teacher. Seed 002's district plans start from such results (its needs assessment).

Our reading, since no seed sets it: the start assessment is open from the program's creation until it ends; the end
assessment is open once it has ended, until certificates are requested. Within an open phase a teacher (or trainer)
may change a rating: the row keeps the id of its current learning record, so the change voids exactly that one, as
corrections of sessions and observations do (models/corrections.py).

A teacher has one trainer's rating per competency and phase: the latest trainer's. When a second trainer of the
course rates the teacher, their rating replaces the first one's (its learning records are voided, even where the level
is the same, since the rater changes) and the pages say whose rating it is. Keeping one rating per trainer would need
the pages, the dashboard and the LRS consumer to weigh trainers against each other, which no seed asks for.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, enum_values, utcnow
from models.catalog import assessment_scale, competencies, default_target_competencies
from models.errors import InvalidInput, Problem, ProgramError
from models.programs import Program, check_plan_editable
from models.states import ProgramState


class Phase(enum.StrEnum):
    START = "start"
    END = "end"


class RaterKind(enum.StrEnum):
    SELF = "self"
    TRAINER = "trainer"


# Which program states each phase is open in (the module docstring says why).
OPEN_IN: dict[Phase, frozenset[ProgramState]] = {
    Phase.START: frozenset({ProgramState.DRAFT, ProgramState.SUBMITTED, ProgramState.APPROVED, ProgramState.RUNNING}),
    Phase.END: frozenset({ProgramState.ENDED}),
}


class AssessmentClosed(ProgramError):
    code = "assessment_closed"

    def __init__(self, phase: Phase, state: ProgramState) -> None:
        super().__init__(f"the {phase} assessment is closed in a {state} program", phase=phase.value, state=state)


class Assessment(Base):
    """One rating of one teacher on one competency in one phase, by the teacher or by a trainer (the latest trainer's:
    the unique key leaves the rater out on purpose, see the module's docstring)."""

    __tablename__ = "plc_competency_assessments"
    __table_args__ = (
        UniqueConstraint(
            "program_id",
            "membership_id",
            "rater_kind",
            "phase",
            "competency",
            name="uq_plc_competency_assessments_one_rating",
        ),  # fmt: skip
        CheckConstraint("level >= 0", name="level_not_negative"),
        Index("ix_plc_competency_assessments_program", "program_id", "phase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)  # the teacher assessed
    rater_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"))  # the teacher, or the trainer who rated
    rater_kind: Mapped[RaterKind] = mapped_column(
        Enum(RaterKind, name="rater_kind", native_enum=False, create_constraint=True, length=16,
             values_callable=enum_values)
    )  # fmt: skip
    phase: Mapped[Phase] = mapped_column(
        Enum(Phase, name="assessment_phase", native_enum=False, create_constraint=True, length=16,
             values_callable=enum_values)
    )  # fmt: skip
    competency: Mapped[str] = mapped_column(String(8))
    level: Mapped[int]
    scale_id: Mapped[str] = mapped_column(String(64))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The current learning record's id, so that a changed rating voids exactly that one.
    statement_id: Mapped[str | None] = mapped_column(String(36), default=None)

    program: Mapped[Program] = relationship()


def targets(program: Program) -> tuple[str, ...]:
    """The program's target competencies, in the framework's order."""
    chosen = set(filter(None, program.target_competencies.split(",")))
    return tuple(code for code in competencies() if code in chosen) or default_target_competencies()


def target_problems(codes: list[str]) -> list[Problem]:
    if not codes:
        return [Problem("targets", "required", {})]
    unknown = [code for code in codes if code not in competencies()]
    return [Problem("targets", "unknown_competency", {"code": ", ".join(unknown)})] if unknown else []


def set_targets(program: Program, codes: list[str]) -> None:
    """A program's chosen competencies, set with its plan: only while the plan may change (a draft)."""
    check_plan_editable(program)
    if problems := target_problems(codes):
        raise InvalidInput(problems)
    program.target_competencies = ",".join(code for code in competencies() if code in set(codes))


def open_phase(program: Program) -> Phase | None:
    return next((phase for phase, states in OPEN_IN.items() if program.state in states), None)


@dataclass(frozen=True)
class Rated:
    """What `rate` did to one competency: the row, and the statement it replaced (None when new or unchanged)."""

    assessment: Assessment
    changed: bool
    replaced_statement_id: str | None


def rate(
    db: Session,
    program: Program,
    membership_id: int,
    rater_id: int,
    rater_kind: RaterKind,
    phase: Phase,
    levels: Mapping[str, int],
    now: datetime,
) -> list[Rated]:
    """Record (or change) the ratings of one teacher in an open phase, one per target competency given."""
    if program.state not in OPEN_IN[phase]:
        raise AssessmentClosed(phase, program.state)
    scale = assessment_scale()
    allowed = {level.level for level in scale.levels}
    aimed = targets(program)
    problems = [Problem(code, "not_a_target", {}) for code in levels if code not in aimed]
    problems += [Problem(code, "required", {}) for code in aimed if code not in levels]
    problems += [Problem(code, "not_a_level", {}) for code, level in levels.items() if level not in allowed]
    if problems:
        raise InvalidInput(problems)
    existing = {
        a.competency: a
        for a in db.scalars(
            select(Assessment).where(
                Assessment.program_id == program.id,
                Assessment.membership_id == membership_id,
                Assessment.rater_kind == rater_kind,
                Assessment.phase == phase,
            )
        )
    }
    done = []
    for code in aimed:
        row = existing.get(code)
        if row is None:
            row = Assessment(
                program_id=program.id, membership_id=membership_id, rater_id=rater_id, rater_kind=rater_kind,
                phase=phase, competency=code, level=levels[code], scale_id=scale.id, assessed_at=now,
            )  # fmt: skip
            db.add(row)
            done.append(Rated(row, True, None))
        elif row.level != levels[code] or row.scale_id != scale.id or row.rater_id != rater_id:
            replaced = row.statement_id
            row.level, row.scale_id, row.rater_id, row.assessed_at = levels[code], scale.id, rater_id, now
            done.append(Rated(row, True, replaced))
        else:
            done.append(Rated(row, False, None))
    db.flush()
    return done


def assessments_of(db: Session, program: Program, membership_ids: list[int] | None = None) -> list[Assessment]:
    query = select(Assessment).where(Assessment.program_id == program.id)
    if membership_ids is not None:
        query = query.where(Assessment.membership_id.in_(membership_ids))
    return list(db.scalars(query.order_by(Assessment.membership_id, Assessment.competency)))


@dataclass(frozen=True)
class Profile:
    """One teacher's levels per target competency: their own at start and end, and the (latest) trainer's when
    given, with the membership id of the trainer who gave it."""

    competency: str
    start: int | None
    end: int | None
    trainer_start: int | None
    trainer_end: int | None
    trainer_start_by: int | None = None
    trainer_end_by: int | None = None

    @property
    def growth(self) -> int | None:
        return self.end - self.start if self.start is not None and self.end is not None else None


def profile(rows: list[Assessment], codes: tuple[str, ...]) -> list[Profile]:
    """The levels of one teacher's rows, per competency of `codes`."""
    found = {(r.competency, r.rater_kind, r.phase): r.level for r in rows}
    raters = {(r.competency, r.phase): r.rater_id for r in rows if r.rater_kind is RaterKind.TRAINER}
    return [
        Profile(
            code,
            found.get((code, RaterKind.SELF, Phase.START)),
            found.get((code, RaterKind.SELF, Phase.END)),
            found.get((code, RaterKind.TRAINER, Phase.START)),
            found.get((code, RaterKind.TRAINER, Phase.END)),
            raters.get((code, Phase.START)),
            raters.get((code, Phase.END)),
        )
        for code in codes
    ]
