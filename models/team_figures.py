"""A team's share of its program's dashboard figures, kept per team so that a change inside one team (a session, an
attendance, a reflection, a grade, an observation, a tracking form, a member, a role) updates its program's summary
row by the difference alone: the team's facts read in one statement, its row replaced, the program's row moved by
the change (models/live_figures.py). A full recomputation of a program (models/dashboard_stats.py) writes the same
rows with the same function, `team_figures`.

Two writers to one team: each locks the team's row before it reads the team's facts (PostgreSQL, READ COMMITTED), so
the second reads what the first committed and moves the program's row from the first one's figures. Writers to two
teams of one program each add their own difference to the program's row (an UPDATE that adds, so both count). A full
recomputation locks the program's row and then the rows of its teams, in id order, before it reads anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ForeignKey,
    Numeric,
    Select,
    bindparam,
    delete,
    or_,
    select,
    union,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.cycles import ELEMENT_NUMBERS, Cycle, ElementSession
from models.eligibility import ProgramFacts, TeamFacts, team_eligibility
from models.facts import CycleFact, read_teams
from models.forms import GOAL_MET, GOAL_NOT_MET
from models.reflections import Reflection
from models.teams import Team, TeamMember

HOURS = Numeric(14, 2)
# The figures of a program's summary row that are the sums of its teams' (models/dashboard_stats.ProgramStats).
FIGURES = (
    "teachers",
    "teachers_eligible",
    "cycles",
    "cycles_completed",
    "teacher_hours",
    *(f"hours_e{n}" for n in ELEMENT_NUMBERS),
    "model_lessons",
    "observations",
    "reflections",
    "reflections_graded",
    "goals_met",
    "goals_not_met",
    "goals_not_reported",
)


class Figures:
    """The figure columns a program's summary row and a team's share both hold (the names in FIGURES)."""

    teachers: Mapped[int]
    teachers_eligible: Mapped[int]
    cycles: Mapped[int]
    cycles_completed: Mapped[int]
    teacher_hours: Mapped[Decimal] = mapped_column(HOURS)
    hours_e1: Mapped[Decimal] = mapped_column(HOURS)
    hours_e2: Mapped[Decimal] = mapped_column(HOURS)
    hours_e3: Mapped[Decimal] = mapped_column(HOURS)
    hours_e4: Mapped[Decimal] = mapped_column(HOURS)
    hours_e5: Mapped[Decimal] = mapped_column(HOURS)
    model_lessons: Mapped[int]
    observations: Mapped[int]
    reflections: Mapped[int]
    reflections_graded: Mapped[int]
    goals_met: Mapped[int]
    goals_not_met: Mapped[int]
    goals_not_reported: Mapped[int]


class TeamStats(Figures, Base):
    """One team's share of its program's figures."""

    __tablename__ = "dashboard_team_stats"

    team_id: Mapped[int] = mapped_column(ForeignKey("plc_teams.id", ondelete="CASCADE"), primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)


def team_figures(program: ProgramFacts, facts: TeamFacts, cycles: Iterable[CycleFact]) -> dict[str, Any]:
    """A team's share of its program's figures (see models/dashboard_stats.py for what each means)."""
    row: dict[str, Any] = dict.fromkeys(FIGURES, 0)
    for name in ("teacher_hours", *(f"hours_e{n}" for n in ELEMENT_NUMBERS)):
        row[name] = Decimal(0)
    # A teacher who left the course before the program's last day counts neither as its teacher nor as eligible.
    members = team_eligibility(program, facts).values()
    row["teachers"] = sum(1 for member in members if member.left_on is None)
    row["teachers_eligible"] = sum(1 for member in members if member.eligible)
    for fact in facts.sessions:
        teacher_hours = fact.hours * len(fact.attendees)
        row["teacher_hours"] += teacher_hours
        row[f"hours_e{fact.element}"] += teacher_hours
    row["observations"] = len(facts.observations)
    row["reflections"] = len(facts.reflections)
    for cycle in cycles:
        row["cycles"] += 1
        row["reflections_graded"] += cycle.graded
        completed = cycle.elements >= set(ELEMENT_NUMBERS)
        if completed:
            row["cycles_completed"] += 1
            row["model_lessons"] += 1  # a Model Teacher's lesson counts once the cycle it was planned for is completed
        if completed or cycle.goal is not None:
            goal = cycle.goal or ""
            row[
                "goals_met" if goal == GOAL_MET else "goals_not_met" if goal == GOAL_NOT_MET else "goals_not_reported"
            ] += 1
    return row


def delete_team_rows(db: Session, program_ids: Select[Any] | Collection[int]) -> None:
    """Delete the team rows of these programs (a full recomputation writes them again), and those their teams had in
    another program (a team moved)."""
    where = program_ids if isinstance(program_ids, Select) else sorted(program_ids)
    teams = select(Team.id).where(Team.program_id.in_(where))
    db.execute(delete(TeamStats).where(or_(TeamStats.program_id.in_(where), TeamStats.team_id.in_(teams))))


def lock_teams_of(db: Session, program_ids: Collection[int] | Select[Any]) -> None:
    """Lock the rows of these programs' teams in id order (after their program rows): a team's live update waits.
    FOR NO KEY UPDATE, as every team lock here: a row inserted under a team (a cycle opened, a member, a role) holds
    a key-share lock on it until its commit, which FOR UPDATE would wait for, in a circle with a second such writer."""
    where = program_ids if isinstance(program_ids, Select) else sorted(program_ids)
    db.execute(select(Team.id).where(Team.program_id.in_(where)).order_by(Team.id).with_for_update(key_share=True))


# --- The live update of a few teams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamNames:
    """What changed inside teams, by what the changed rows name: teams, cycles, sessions, reflections, memberships."""

    teams: frozenset[int] = frozenset()
    cycles: frozenset[int] = frozenset()
    sessions: frozenset[int] = frozenset()
    reflections: frozenset[int] = frozenset()
    memberships: frozenset[int] = frozenset()


def team_names(changed: Mapping[str, Collection[int]]) -> TeamNames:
    return TeamNames(
        *(frozenset(changed.get(kind, ())) for kind in ("team", "cycle", "session", "reflection", "membership"))
    )


def _named_teams(db: Session, names: TeamNames) -> tuple[frozenset[str], dict[str, list[int]]]:
    """The kinds of names that lead to teams and their ids: teams, cycles, sessions and reflections. The memberships
    of a roster read, which may be thousands, are looked up as teams first, in chunks."""
    teams = set(names.teams)
    for chunk in _chunks(sorted(names.memberships)):
        teams |= set(db.scalars(select(TeamMember.team_id).where(TeamMember.membership_id.in_(chunk))))
    ids = {"teams": sorted(teams), "cycles": sorted(names.cycles), "sessions": sorted(names.sessions),
           "reflections": sorted(names.reflections)}  # fmt: skip
    return frozenset(kind for kind, values in ids.items() if values), {k: v for k, v in ids.items() if v}


@cache
def _lock_teams(kinds: frozenset[str]) -> Select[int, int]:
    """Lock the teams named by these kinds of ids (expanding parameters of the same names), in id order, and read
    each one's program. Each kind is found by an index, the kinds joined by a UNION (never an OR, which PostgreSQL
    could only answer by reading every cycle). Built once per set of kinds."""
    found: dict[str, Select[Any]] = {
        "teams": select(Team.id).where(Team.id.in_(bindparam("teams", expanding=True))),
        "cycles": select(Cycle.team_id).where(Cycle.id.in_(bindparam("cycles", expanding=True))),
        "sessions": select(Cycle.team_id)
        .join(ElementSession, ElementSession.cycle_id == Cycle.id)
        .where(ElementSession.id.in_(bindparam("sessions", expanding=True))),
        "reflections": select(Cycle.team_id)
        .join(Reflection, Reflection.cycle_id == Cycle.id)
        .where(Reflection.id.in_(bindparam("reflections", expanding=True))),
    }
    chosen = [found[kind] for kind in sorted(kinds)]
    named = chosen[0] if len(chosen) == 1 else union(*chosen)
    return select(Team.id, Team.program_id).where(Team.id.in_(named)).order_by(Team.id).with_for_update(key_share=True)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def recompute_teams(db: Session, names: TeamNames, skip_programs: Collection[int] = ()) -> dict[int, TeamRow]:
    """Lock the teams these names belong to (but those of `skip_programs`, recomputed whole) and compute their
    figures from their facts: team id → its program and its figures."""
    kinds, ids = _named_teams(db, names)
    if not kinds:
        return {}
    # A Core statement built once on the session's connection: no ORM work per update.
    locked = db.connection().execute(_lock_teams(kinds), ids).all()
    program_of = {team_id: program_id for team_id, program_id in locked if program_id not in skip_programs}
    if not program_of:
        return {}
    # Read after the locks: what a writer before us committed is in these facts (a new statement, a new snapshot).
    # A team that went with its program in this transaction is not among them.
    return {
        team_id: TeamRow(program_of[team_id], team_figures(team.program, team.facts(), team.cycles.values()))
        for team_id, team in sorted(read_teams(db, program_of).items())
        if team.program is not None
    }


class TeamRow(NamedTuple):
    program_id: int
    figures: dict[str, Any]
