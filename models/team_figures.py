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

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    Select,
    String,
    Text,
    bindparam,
    cast,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import CompoundSelect

from models.base import Base
from models.calendar import program_day
from models.cycles import ELEMENT_NUMBERS, SESSION_IS_LIVE, Cycle, ElementSession, SessionAttendance
from models.eligibility import ProgramFacts, SessionFact, TeamFacts, team_eligibility
from models.forms import GOAL_FIELD, GOAL_MET, GOAL_NOT_MET, RESULTS_FORM, FormEntry, goal_field
from models.observations import OBSERVATION_IS_LIVE, Observation
from models.people import INACTIVE, Membership
from models.plan import PlcRole
from models.programs import Program
from models.reflections import Grade, Reflection
from models.states import ProgramState
from models.teams import CycleAssignment, Team, TeamMember

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


@dataclass
class CycleFact:
    """What a team's cycle adds to the figures: the elements it has a live session of, its results report's goal
    ("" chosen as neither outcome, None for no report), and how many of its reflections are graded."""

    elements: set[int] = field(default_factory=set)
    goal: str | None = None
    graded: int = 0


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


def goal_chosen(answers: Mapping[str, Any] | None) -> str:
    """The goal a results report chose, "" for an answer that names neither outcome plainly."""
    chosen = goal_field().option(str((answers or {}).get(GOAL_FIELD, "")).strip())
    return chosen.value if chosen else ""


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


@cache
def _facts_of() -> CompoundSelect[Any]:
    """Every fact the figures of the teams `team_ids` (an expanding parameter) rest on, in one statement: rows of
    (kind, team, i1, i2, i3, n, d1, d2, t, s), each kind filling the columns it needs. Built once."""
    team_ids: BindParameter[list[int]] = bindparam("team_ids", expanding=True)
    columns = (
        ("i1", Integer()),
        ("i2", Integer()),
        ("i3", Integer()),
        ("n", Numeric(14, 3)),
        ("d1", Date()),
        ("d2", Date()),
        # Read as stored (UTC) and made aware below: UTCDateTime's processor on every row of every kind costs more
        # than the rest of the reading.
        ("t", DateTime(timezone=True)),
        ("s", Text()),
    )

    def row(kind: str, team: Any, **values: Any) -> list[ColumnElement[Any]]:
        # A NULL is cast to the column's type (PostgreSQL types a UNION's columns from every branch); a value keeps
        # its own SQL (SQLite would cast a date to a number) and takes the column's type for reading the result.
        return [
            literal(kind, String(1)).label("kind"),
            type_coerce(team, Integer()).label("team"),
            *(
                (type_coerce(values[name], type_) if name in values else cast(null(), type_)).label(name)
                for name, type_ in columns
            ),
        ]

    cycles = select(Cycle.id, Cycle.team_id, Cycle.number).where(Cycle.team_id.in_(team_ids)).subquery()
    return union_all(
        select(
            *row(
                "p",
                Team.id,
                i1=Program.planned_cycles,
                n=Program.min_hours,
                d1=Program.approved_on,
                d2=Program.ended_on,
                s=cast(Program.state, Text()),
            )
        )
        .join(Program, Program.id == Team.program_id)
        .where(Team.id.in_(team_ids)),
        select(*row("m", TeamMember.team_id, i1=TeamMember.membership_id, t=Membership.inactive_since))
        .join(Membership, Membership.id == TeamMember.membership_id)
        .where(TeamMember.team_id.in_(team_ids), Membership.status == INACTIVE),
        select(*row("k", TeamMember.team_id, i1=TeamMember.membership_id)).where(TeamMember.team_id.in_(team_ids)),
        select(
            *row(
                "r",
                CycleAssignment.team_id,
                i1=CycleAssignment.cycle_number,
                i2=CycleAssignment.membership_id,
                s=cast(CycleAssignment.role, Text()),
            )
        ).where(CycleAssignment.team_id.in_(team_ids)),
        select(*row("c", cycles.c.team_id, i1=cycles.c.id, i2=cycles.c.number)),
        # A live session with its attendees' membership ids, comma-separated (one row per session, not per teacher).
        select(
            *row(
                "e",
                cycles.c.team_id,
                i1=ElementSession.id,
                i2=cycles.c.id,
                i3=ElementSession.element,
                n=ElementSession.hours,
                d1=ElementSession.held_on,
                s=func.aggregate_strings(cast(SessionAttendance.membership_id, Text()), ","),
            )
        )
        .join(cycles, cycles.c.id == ElementSession.cycle_id)
        .outerjoin(SessionAttendance, SessionAttendance.session_id == ElementSession.id)
        .where(SESSION_IS_LIVE)
        .group_by(
            cycles.c.team_id,
            ElementSession.id,
            cycles.c.id,
            ElementSession.element,
            ElementSession.hours,
            ElementSession.held_on,
        ),
        # A reflection with how many grades it has (a regrade adds one), each found by the index on the reflection.
        select(
            *row(
                "f",
                cycles.c.team_id,
                i1=cycles.c.id,
                i2=Reflection.membership_id,
                i3=func.count(Grade.id),
                t=Reflection.submitted_at,
            )
        )
        .join(cycles, cycles.c.id == Reflection.cycle_id)
        .outerjoin(Grade, Grade.reflection_id == Reflection.id)
        .group_by(cycles.c.team_id, cycles.c.id, Reflection.id, Reflection.membership_id, Reflection.submitted_at),
        select(*row("o", cycles.c.team_id, i1=cycles.c.id, i2=Observation.buddy_id))
        .join(cycles, cycles.c.id == Observation.cycle_id)
        .where(OBSERVATION_IS_LIVE),
        select(*row("g", cycles.c.team_id, i1=cycles.c.id, s=cast(FormEntry.answers, Text())))
        .join(cycles, cycles.c.id == FormEntry.cycle_id)
        .where(FormEntry.form == RESULTS_FORM),
    )


@dataclass
class _Team:
    program: ProgramFacts | None = None
    members: set[int] = field(default_factory=set)
    left: dict[int, date] = field(default_factory=dict)
    roles: dict[tuple[int, int], PlcRole] = field(default_factory=dict)
    numbers: dict[int, int] = field(default_factory=dict)  # cycle id → number
    cycles: dict[int, CycleFact] = field(default_factory=dict)
    sessions: dict[int, tuple[int, int, date, Decimal]] = field(default_factory=dict)  # id → cycle id, element, …
    attendees: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    reflections: dict[tuple[int, int], Any] = field(default_factory=dict)
    observations: set[tuple[int, int]] = field(default_factory=set)

    def figures(self) -> dict[str, Any]:
        assert self.program is not None
        facts = TeamFacts(
            member_ids=frozenset(self.members),
            sessions=tuple(
                SessionFact(self.numbers[cycle_id], element, held_on, hours, frozenset(self.attendees.get(sid, ())))
                for sid, (cycle_id, element, held_on, hours) in self.sessions.items()
            ),
            roles=self.roles,
            reflections=self.reflections,
            observations=frozenset(self.observations),
            left={m: day for m, day in self.left.items() if m in self.members},
        )
        return team_figures(self.program, facts, self.cycles.values())


def _aware(moment: datetime) -> datetime:
    """A stored moment is UTC (models/base.UTCDateTime); SQLite gives it back without its zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _read(db: Session, team_ids: list[int]) -> dict[int, _Team]:
    teams: dict[int, _Team] = defaultdict(_Team)
    rows = db.connection().execute(_facts_of(), {"team_ids": team_ids}).all()
    for row in rows:  # cycles first: the other kinds name them by number
        if row.kind == "c":
            teams[row.team].numbers[row.i1] = row.i2
            teams[row.team].cycles[row.i1] = CycleFact()
    for kind, team_id, i1, i2, i3, n, d1, d2, t, s in rows:
        team = teams[team_id]
        if kind == "p":
            team.program = ProgramFacts(ProgramState(s), d1, i1, Decimal(n), d2)
        elif kind == "k":
            team.members.add(i1)
        elif kind == "m" and t is not None:
            team.left[i1] = program_day(_aware(t))
        elif kind == "r":
            team.roles[(i1, i2)] = PlcRole(s)
        elif kind == "e":
            team.sessions[i1] = (i2, i3, d1, Decimal(n))
            team.cycles[i2].elements.add(i3)
            if s:
                team.attendees[i1] = {int(m) for m in s.split(",")}
        elif kind == "f":
            team.reflections[(team.numbers[i1], i2)] = _aware(t)
            team.cycles[i1].graded += 1 if i3 else 0
        elif kind == "o":
            team.observations.add((team.numbers[i1], i2))
        elif kind == "g":
            team.cycles[i1].goal = goal_chosen(json.loads(s) if isinstance(s, str) else s)
    return teams


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
    return {
        team_id: TeamRow(program_of[team_id], facts.figures())
        for team_id, facts in sorted(_read(db, sorted(program_of)).items())
        if facts.program is not None  # else the team went with its program in this transaction
    }


class TeamRow(NamedTuple):
    program_id: int
    figures: dict[str, Any]
