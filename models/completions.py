"""What a teacher has completed (an element of a cycle, a cycle, the program), each kept once so that its learning
record is written exactly once, whichever change completed it and however many requests race to it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.eligibility import eligibility, program_facts
from models.facts import team_facts
from models.teams import Team

PROGRAM_LEVEL = 0  # cycle_number and element of a program completion; element of a cycle completion


class Completion(Base):
    __tablename__ = "plc_completions"
    __table_args__ = (UniqueConstraint("program_id", "membership_id", "cycle_number", "element"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    cycle_number: Mapped[int]
    element: Mapped[int]
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The `completed` statement's id, so that a correction after which it no longer holds voids exactly that one.
    statement_id: Mapped[str | None] = mapped_column(String(36), default=None)


@dataclass(frozen=True)
class CompletionEvent:
    membership_id: int
    cycle_number: int  # 0: the program
    element: int  # 0: the whole cycle (or the program)

    @property
    def kind(self) -> str:
        if self.cycle_number == PROGRAM_LEVEL:
            return "program"
        return "cycle" if self.element == PROGRAM_LEVEL else "element"


def _reached(db: Session, team: Team, member_ids: Collection[int]) -> set[CompletionEvent]:
    """Everything the members have completed now, by the eligibility rule's reading (models/eligibility.py)."""
    facts, program = team_facts(db, team), program_facts(team.program)
    reached: set[CompletionEvent] = set()
    for member_id in member_ids:
        progress = eligibility(member_id, program, facts)
        for cycle in progress.cycles:
            reached.update(CompletionEvent(member_id, cycle.number, element) for element in cycle.elements_attended)
            if cycle.complete:
                reached.add(CompletionEvent(member_id, cycle.number, PROGRAM_LEVEL))
        if progress.requirements_met:  # what they did: a teacher who left the course keeps it
            reached.add(CompletionEvent(member_id, PROGRAM_LEVEL, PROGRAM_LEVEL))
    return reached


def record_completions(db: Session, team: Team, member_ids: Collection[int], now: datetime) -> list[CompletionEvent]:
    """Keep what the members newly completed and return it (each completion is returned once, ever)."""
    if not member_ids:
        return []
    db.flush()
    reached = _reached(db, team, member_ids)
    known = {
        CompletionEvent(m, c, e)
        for m, c, e in db.execute(
            select(Completion.membership_id, Completion.cycle_number, Completion.element).where(
                Completion.program_id == team.program_id, Completion.membership_id.in_(member_ids)
            )
        )
    }
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    new: list[CompletionEvent] = []
    for event in sorted(reached - known, key=lambda e: (e.membership_id, e.cycle_number or 99, e.element or 99)):
        statement = (
            insert(Completion)
            .values(
                program_id=team.program_id,
                membership_id=event.membership_id,
                cycle_number=event.cycle_number,
                element=event.element,
                completed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["program_id", "membership_id", "cycle_number", "element"])
            .returning(Completion.id)
        )
        if db.execute(statement).scalar_one_or_none() is not None:  # a concurrent request may have kept it first
            new.append(event)
    return new


def keep_statement_id(db: Session, team: Team, event: CompletionEvent, statement_id: str) -> None:
    """Remember which statement recorded the completion."""
    db.execute(
        update(Completion)
        .where(
            Completion.program_id == team.program_id,
            Completion.membership_id == event.membership_id,
            Completion.cycle_number == event.cycle_number,
            Completion.element == event.element,
        )
        .values(statement_id=statement_id)
    )


def withdraw_completions(
    db: Session, team: Team, member_ids: Collection[int]
) -> list[tuple[CompletionEvent, str | None]]:
    """Forget the completions that no longer hold after a correction, and return them with their statement ids (to
    be voided). A completion that holds again later is then recorded again, once."""
    if not member_ids:
        return []
    db.flush()
    reached = _reached(db, team, member_ids)
    rows = db.execute(
        select(Completion.id, Completion.membership_id, Completion.cycle_number, Completion.element,
               Completion.statement_id)
        .where(Completion.program_id == team.program_id, Completion.membership_id.in_(member_ids))
        .order_by(Completion.id)
    ).all()  # fmt: skip
    gone = [
        (row.id, CompletionEvent(row.membership_id, row.cycle_number, row.element), row.statement_id) for row in rows
    ]
    gone = [item for item in gone if item[1] not in reached]
    if gone:
        db.execute(delete(Completion).where(Completion.id.in_([row_id for row_id, _, _ in gone])))
    return [(event, statement_id) for _, event, statement_id in gone]
