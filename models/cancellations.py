"""Who cancelled a program, and why (seed 004 §2, its closing paragraph): the agency itself, or the Office of the
Secretary-General of the Teachers' Council, which "may cancel the co-operation" of an agency that does not follow the
guideline and tells it so, by letter. The trainer who records it, the day and the reason are in the program's history
(models/program_history.py); this keeps who cancelled and, for the Council, its letter."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models import program_history
from models.base import Base, enum_values
from models.errors import InvalidInput, Problem, ProgramStateError
from models.people import Membership
from models.plan_versions import LETTER_NUMBER_LENGTH  # the Council's letter numbers, one rule for every letter
from models.program_history import REASON_LENGTH, ProgramChange, ProgramChangeKind
from models.programs import Program
from models.states import CANCELLABLE, ProgramState


class CancelledBy(enum.StrEnum):
    AGENCY = "agency"  # the agency that runs the program
    COUNCIL = "council"  # the Office of the Secretary-General of the Teachers' Council


class Cancellation(Base):
    """Who cancelled a program; one per program, beside the history entry that records the step."""

    __tablename__ = "plc_program_cancellations"
    __table_args__ = (
        CheckConstraint(
            "cancelled_by <> 'council' OR (letter_number <> '' AND letter_date IS NOT NULL)",
            name="council_cancellation_has_letter",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), unique=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("plc_program_history.id", ondelete="CASCADE"), unique=True)
    cancelled_by: Mapped[CancelledBy] = mapped_column(
        Enum(
            CancelledBy,
            name="cancelled_by",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=enum_values,
        )
    )
    letter_number: Mapped[str] = mapped_column(String(LETTER_NUMBER_LENGTH), default="")  # the Council's letter
    letter_date: Mapped[date | None] = mapped_column(default=None)

    change: Mapped[ProgramChange] = relationship()


@dataclass(frozen=True)
class CancellationDetails:
    """What the trainer records when cancelling: who cancels (a `CancelledBy` value as posted), why, and for the
    Council its letter."""

    cancelled_by: str
    reason: str
    letter_number: str = ""
    letter_date: date | None = None

    def problems(self, program: Program, today: date) -> list[Problem]:
        """Everything wrong with the details, field by field, so every field shows its problem at once."""
        found: list[Problem] = []
        reason = self.reason.strip()
        if not reason:
            found.append(Problem("reason", "required", {}))
        elif len(reason) > REASON_LENGTH:
            found.append(Problem("reason", "too_long", {"most": REASON_LENGTH, "have": len(reason)}))
        if self.cancelled_by not in set(CancelledBy):
            found.append(Problem("cancelled_by", "who_cancels_required", {}))
        elif self.cancelled_by == CancelledBy.COUNCIL:
            found.extend(self._council_problems(program, today))
        return found

    def _council_problems(self, program: Program, today: date) -> list[Problem]:
        found: list[Problem] = []
        if program.state is ProgramState.DRAFT:  # never sent: there is no co-operation for the Council to cancel
            found.append(Problem("cancelled_by", "council_not_asked", {}))
        number = self.letter_number.strip()
        if not number:
            found.append(Problem("letter_number", "letter_number_required", {}))
        elif len(number) > LETTER_NUMBER_LENGTH:
            found.append(Problem("letter_number", "letter_number_too_long", {"most": LETTER_NUMBER_LENGTH}))
        if self.letter_date is None:
            found.append(Problem("letter_date", "letter_date_required", {}))
        elif self.letter_date > today:
            found.append(Problem("letter_date", "letter_date_in_future", {"today": today}))
        elif program.submitted_on is not None and self.letter_date < program.submitted_on:
            found.append(Problem("letter_date", "letter_before_submission", {"submitted": program.submitted_on}))
        return found


def cancel(db: Session, program: Program, by: Membership, details: CancellationDetails, today: date) -> Cancellation:
    """Cancel the program (any state before it ends) as the agency's or the Council's decision, with a reason; the
    Council's comes with its letter's number and date (a day that has come, not before the submission)."""
    if program.state not in CANCELLABLE:
        raise ProgramStateError(program.state, ProgramState.CANCELLED)
    if problems := details.problems(program, today):
        raise InvalidInput(problems)
    change = program_history.cancel(db, program, by, details.reason)
    council = details.cancelled_by == CancelledBy.COUNCIL
    cancellation = Cancellation(
        program_id=program.id,
        change_id=change.id,
        cancelled_by=CancelledBy(details.cancelled_by),
        letter_number=details.letter_number.strip() if council else "",
        letter_date=details.letter_date if council else None,
    )
    db.add(cancellation)
    db.flush()
    return cancellation


@dataclass(frozen=True)
class Cancelled:
    """A cancelled program as its pages show it: the history entry (who recorded it, when, why) and who cancelled;
    `cancelled_by` is None for a program cancelled before the tool asked."""

    change: ProgramChange
    cancelled_by: CancelledBy | None = None
    letter_number: str = ""
    letter_date: date | None = None


def cancelled(db: Session, programs: Iterable[Program]) -> dict[int, Cancelled]:
    """The cancellation of each cancelled program among `programs`, by program id."""
    ids = [p.id for p in programs if p.state is ProgramState.CANCELLED]
    if not ids:
        return {}
    details = {c.change_id: c for c in db.scalars(select(Cancellation).where(Cancellation.program_id.in_(ids)))}
    changes = db.scalars(
        select(ProgramChange)
        .where(ProgramChange.program_id.in_(ids), ProgramChange.kind == ProgramChangeKind.CANCELLED)
        .order_by(ProgramChange.at, ProgramChange.id)
    )
    found: dict[int, Cancelled] = {}
    for change in changes:  # the latest one wins (there is one: a cancelled program is not resumed)
        row = details.get(change.id)
        found[change.program_id] = (
            Cancelled(change, row.cancelled_by, row.letter_number, row.letter_date) if row else Cancelled(change)
        )
    return found


def cancellation_of(db: Session, program: Program | None) -> Cancelled | None:
    """Who cancelled the program, when and why; None when it is not cancelled."""
    return cancelled(db, [program]).get(program.id) if program is not None else None
