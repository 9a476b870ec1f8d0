"""A program's history of weighty steps a trainer took on it (cancelled, reopened, approval date corrected, a
submission withdrawn): who,
when, the value before and after, and why. The rules that need the database to decide such a step live here too."""

from __future__ import annotations

import enum
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models import plan_versions, programs
from models.base import Base, enum_values, utcnow
from models.certificates import certificates_of
from models.cycles import Cycle, ElementSession
from models.errors import InvalidInput, Problem
from models.people import Membership
from models.programs import Program
from models.scope import CourseScope, scope_parameters, scoped, scoped_statement
from models.states import ProgramState
from models.teams import Team

REASON_LENGTH = 1000


class ProgramChangeKind(enum.StrEnum):
    CANCELLED = "cancelled"
    REOPENED = "reopened"
    APPROVAL_CORRECTED = "approval_corrected"
    WITHDRAWN = "withdrawn"  # the submission to the Council taken back to change the plan (before: the version)
    LETTER_CORRECTED = "approval_letter_corrected"  # before/after: the Council's approval letter number


class ProgramChange(Base):
    """One weighty step on a program, kept for the agency and the Council."""

    __tablename__ = "plc_program_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[ProgramChangeKind] = mapped_column(
        Enum(
            ProgramChangeKind,
            name="program_change_kind",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=enum_values,
        )
    )
    before: Mapped[str] = mapped_column(String(64), default="")
    after: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")

    by: Mapped[Membership | None] = relationship()


def history(db: Session, program: Program) -> list[ProgramChange]:
    """The program's changes, oldest first."""
    return list(
        db.scalars(
            select(ProgramChange)
            .where(ProgramChange.program_id == program.id)
            .order_by(ProgramChange.at, ProgramChange.id)
        )
    )


def _reason(reason: str) -> str:
    """A weighty step is taken with a reason (kept in full: never cut)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput([Problem("reason", "required", {})])
    if len(reason) > REASON_LENGTH:
        raise InvalidInput([Problem("reason", "too_long", {"most": REASON_LENGTH, "have": len(reason)})])
    return reason


def _record(
    db: Session, program: Program, by: Membership, kind: ProgramChangeKind, before: str, after: str, reason: str
) -> ProgramChange:
    change = ProgramChange(
        program_id=program.id, membership_id=by.id, kind=kind, before=before, after=after, reason=reason
    )
    db.add(change)
    db.flush()
    return change


def cancel(db: Session, program: Program, by: Membership, reason: str) -> ProgramChange:
    """Cancel the program with a reason; it stays in the course's history, read-only."""
    why = _reason(reason)
    before = program.state.value
    programs.cancel(program)
    return _record(db, program, by, ProgramChangeKind.CANCELLED, before, program.state.value, why)


def withdraw(db: Session, program: Program, by: Membership, reason: str, today: date) -> ProgramChange:
    """Take the submission back from the Council (submitted → draft) with a reason, to change the plan and submit
    it again as the next version; the version withdrawn is kept with the day and the reason."""
    why = _reason(reason)
    version = plan_versions.withdraw(db, program, why, today=today)
    return _record(db, program, by, ProgramChangeKind.WITHDRAWN, str(version.number), program.state.value, why)


def issued_certificates(db: Session, program: Program) -> int:
    """How many of the program's certificates stand (revoked ones do not)."""
    return sum(1 for c in certificates_of(db, program).values() if not c.revoked)


def reopen(db: Session, program: Program, by: Membership, reason: str, today: date) -> ProgramChange:
    """Ended → running again, with a reason, while no certificate stands and the program year has not run out."""
    why = _reason(reason)
    ended_on = program.ended_on
    programs.reopen(program, today, issued_certificates(db, program))
    return _record(db, program, by, ProgramChangeKind.REOPENED, ended_on.isoformat() if ended_on else "", "", why)


def earliest_session(db: Session, program: Program) -> date | None:
    """The day of the program's first recorded element session, if any."""
    return db.scalar(
        select(func.min(ElementSession.held_on))
        .join(Cycle, ElementSession.cycle_id == Cycle.id)
        .join(Team, Cycle.team_id == Team.id)
        .where(Team.program_id == program.id)
    )


def correct_approval_date(
    db: Session, program: Program, by: Membership, on: date, reason: str, today: date
) -> ProgramChange:
    """Correct the Council's approval date, with a reason kept in the history, as long as nothing falls before it."""
    why = _reason(reason)
    before = program.approved_on
    programs.correct_approval_date(program, on, today, earliest_session(db, program))
    plan_versions.approval_date_corrected(db, program)
    return _record(
        db,
        program,
        by,
        ProgramChangeKind.APPROVAL_CORRECTED,
        before.isoformat() if before else "",
        on.isoformat(),
        why,
    )


def correct_approval_letter(
    db: Session, program: Program, by: Membership, letter_number: str, reason: str
) -> ProgramChange | None:
    """Correct the number of the Council's approval letter, or record it for a program approved before letters were
    kept, with a reason kept in the history (before and after); None when the number is unchanged."""
    why = _reason(reason)
    before = plan_versions.correct_letter_number(db, program, letter_number)
    if before is None:
        return None
    return _record(db, program, by, ProgramChangeKind.LETTER_CORRECTED, before, letter_number.strip(), why)


# --- The course's programs: the current one and the earlier ones ----------------------------------------------


def course_programs(db: Session, scope: CourseScope) -> list[Program]:
    """Every program the course has held, newest first (cancelled ones included, read-only)."""
    return list(db.scalars(scoped(Program, scope).order_by(Program.id.desc())))


def current_program(db: Session, scope: CourseScope) -> Program | None:
    """The course's current program: its newest one that was not cancelled. A cancelled program stays in the course's
    history, and the course may then set up a new one."""
    return db.scalars(_current_program_query(), scope_parameters(scope)).first()


@cache
def _current_program_query() -> Any:
    """current_program's statement, built once: every page of a course reads its program."""
    return scoped_statement(Program).where(Program.state != ProgramState.CANCELLED).order_by(Program.id.desc())
