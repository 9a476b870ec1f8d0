"""The facts a team's dashboard figures and its teachers' certificate eligibility rest on (models/eligibility.py),
read for any number of teams in one statement: the program, the members and those who left the course, the roles
of the plan, the cycles, the live sessions with their attendees, the reflections with their count of grades, the
live observations, the results reports. The live figures (models/team_figures.py), a teacher's progress and the
program's certificates all read them here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.selectable import CompoundSelect

from models.calendar import program_day
from models.cycles import SESSION_IS_LIVE, Cycle, ElementSession, SessionAttendance
from models.eligibility import Eligibility, ProgramFacts, SessionFact, TeamFacts, program_facts, team_eligibility
from models.forms import GOAL_FIELD, RESULTS_FORM, FormEntry, goal_field
from models.observations import OBSERVATION_IS_LIVE, Observation
from models.people import INACTIVE, Membership
from models.plan import PlcRole
from models.programs import Program
from models.reflections import Grade, Reflection
from models.states import ProgramState
from models.teams import CycleAssignment, Team, TeamMember


@dataclass
class CycleFact:
    """What a team's cycle adds to the figures: the elements it has a live session of, its results report's goal
    ("" chosen as neither outcome, None for no report), and how many of its reflections are graded."""

    elements: set[int] = field(default_factory=set)
    goal: str | None = None
    graded: int = 0


def goal_chosen(answers: Mapping[str, Any] | None) -> str:
    """The goal a results report chose, "" for an answer that names neither outcome plainly."""
    chosen = goal_field().option(str((answers or {}).get(GOAL_FIELD, "")).strip())
    return chosen.value if chosen else ""


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
        # The first kind's NULLs are cast to their column's type: PostgreSQL types a UNION's columns pairwise from the
        # left, so the later kinds' NULLs take those types. Only there: below 4,096 characters psycopg keeps the
        # statement's conversion instead of parsing it again on every live update. A value keeps its own SQL
        # (SQLite would cast a date to a number) and takes the column's type for reading the result.
        first = kind == "p"
        return [
            literal_column(f"'{kind}'", String(1)).label("kind"),  # one of the letters here, never a value given
            type_coerce(team, Integer()).label("team"),
            *(
                (
                    type_coerce(values[name], type_) if name in values else cast(null(), type_) if first else null()
                ).label(name)
                for name, type_ in columns
            ),
        ]

    # A CTE: the later kinds all start from the teams' cycles (stated once, read once).
    cycles = select(Cycle.id, Cycle.team_id, Cycle.number).where(Cycle.team_id.in_(team_ids)).cte("cycles")
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
class TeamRecord:
    """What one team planned and recorded, as the facts statement gives it."""

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

    def facts(self) -> TeamFacts:
        """The facts of the eligibility rule (models/eligibility.py)."""
        return TeamFacts(
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


def _aware(moment: datetime) -> datetime:
    """A stored moment is UTC (models/base.UTCDateTime); SQLite gives it back without its zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_SQLITE_TEAMS_PER_STATEMENT = 1000  # 9011 variables


def read_teams(db: Session, team_ids: Collection[int]) -> dict[int, TeamRecord]:
    """What these teams planned and recorded, in one statement (on SQLite one per thousand teams), by team id (a team
    of no program is absent). On the session's connection as it is: what the session has not flushed is not in it
    (the caller flushes)."""
    teams: dict[int, TeamRecord] = defaultdict(TeamRecord)
    connection, ids = db.connection(), sorted(team_ids)
    # SQLite binds the ids once per kind of fact that names them (nine times): its default limit of 32766 variables
    # a statement would stop at 3640 teams, so it reads them in chunks (a team's facts all in one); PostgreSQL binds
    # each id once and reads any number in one statement, one snapshot.
    size = _SQLITE_TEAMS_PER_STATEMENT if connection.dialect.name == "sqlite" else max(len(ids), 1)
    rows = [
        row
        for start in range(0, len(ids), size)
        for row in connection.execute(_facts_of(), {"team_ids": ids[start : start + size]}).all()
    ]
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
    return {team_id: record for team_id, record in teams.items() if record.program is not None}


def team_facts(db: Session, team: Team) -> TeamFacts:
    """Everything a team planned and recorded (what the session changed so far included), in one statement."""
    return team_facts_and_cycles(db, team)[0]


def team_facts_and_cycles(db: Session, team: Team) -> tuple[TeamFacts, dict[int, int]]:
    """`team_facts`, and the ids of the team's cycles by number (a cycle is there once something was recorded in
    it), from the same statement."""
    db.flush()
    record = read_teams(db, [team.id]).get(team.id)
    if record is None:
        return TeamFacts(member_ids=frozenset(team.member_ids)), {}
    return record.facts(), {number: cycle_id for cycle_id, number in record.numbers.items()}


def program_eligibility(db: Session, program: Program) -> dict[int, Eligibility]:
    """Every team member's eligibility, by membership id: the trainer's program-level view. All the program's teams
    are read in one statement."""
    db.flush()
    facts = program_facts(program)
    result: dict[int, Eligibility] = {}
    records = read_teams(db, [team.id for team in program.teams])
    for team in program.teams:
        record = records.get(team.id)
        result.update(team_eligibility(facts, record.facts() if record else TeamFacts(frozenset(team.member_ids))))
    return result
