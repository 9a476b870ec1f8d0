"""A teacher's hours logbook for one program: every element session they attended, by cycle and element, their role
in the cycle, and the totals. Thai teachers copy these hours into their professional-development record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.cycles import ELEMENT_NUMBERS, SESSION_IS_LIVE, Cycle, ElementSession, SessionAttendance
from models.people import Membership
from models.plan import PlcRole, role_in_cycle
from models.programs import Program
from models.teams import Team, TeamMember


@dataclass(frozen=True)
class LogbookEntry:
    session_id: int
    held_on: date
    cycle: int
    element: int
    role: PlcRole | None
    hours: Decimal
    notes: str


@dataclass(frozen=True)
class Logbook:
    program: Program
    member: Membership
    team: Team | None
    entries: tuple[LogbookEntry, ...]

    @property
    def hours_by_element(self) -> dict[int, Decimal]:
        return {n: sum((e.hours for e in self.entries if e.element == n), Decimal(0)) for n in ELEMENT_NUMBERS}

    @property
    def hours_by_cycle(self) -> dict[int, Decimal]:
        cycles = sorted({e.cycle for e in self.entries})
        return {c: sum((e.hours for e in self.entries if e.cycle == c), Decimal(0)) for c in cycles}

    @property
    def total_hours(self) -> Decimal:
        return sum((e.hours for e in self.entries), Decimal(0))


def team_in_program(db: Session, program: Program, membership_id: int) -> Team | None:
    return db.scalars(
        select(Team)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.program_id == program.id, TeamMember.membership_id == membership_id)
    ).first()


def logbook(db: Session, program: Program, member: Membership) -> Logbook:
    """The sessions of the program that the teacher attended, oldest first."""
    team = team_in_program(db, program, member.id)
    sessions = db.scalars(
        select(ElementSession)
        .join(Cycle, ElementSession.cycle_id == Cycle.id)
        .join(Team, Cycle.team_id == Team.id)
        .join(SessionAttendance, SessionAttendance.session_id == ElementSession.id)
        .where(Team.program_id == program.id, SessionAttendance.membership_id == member.id, SESSION_IS_LIVE)
        .options(selectinload(ElementSession.cycle).selectinload(Cycle.team))
        .order_by(ElementSession.held_on, Cycle.number, ElementSession.element, ElementSession.id)
    )
    entries = tuple(
        LogbookEntry(
            session_id=s.id,
            held_on=s.held_on,
            cycle=s.cycle.number,
            element=s.element,
            role=role_in_cycle(s.cycle.team, s.cycle.number, member.id),
            hours=s.hours,
            notes=s.notes,
        )
        for s in sessions
    )
    return Logbook(program, member, team, entries)
