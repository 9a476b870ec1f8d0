"""The district dashboard's precomputed figures: one summary row per program (and per program, learning area and grade for the
student results its cycles targeted, and per team: models/team_figures.py), so that every dashboard view is a
handful of grouped queries over a few hundred rows, whatever the number of sessions, attendances and reflections
behind them. They are kept live (models/live_figures.py): a change inside a team moves its program's row by the
team's difference (`move_programs`), any other change recomputes its program (`refresh_programs`).

A full recomputation (`refresh_district`) reads a district's programs with a few bulk queries, applies the
certificate rule of `models.eligibility` to every teacher (the same pure function the progress page uses), and
replaces the district's summary rows in one transaction. It runs after `plc-bridge seed-demo`, from `plc-bridge
dashboard refresh` (repairs) and from the dashboard's "Refresh figures" button; the page says when the figures are
from.

Definitions: a team's cycle is *completed* when each of the five elements has a session in it; *teacher-hours*
are session hours times the teachers present; a program's *year* is the year of its approval (of its creation
before approval); a teacher who left the course before the program's last day is not counted among its teachers
(models/eligibility.py), though their hours are; a cycle's student result counts when both its baseline and its
result values are recorded. A cycle's goal (the results report's choice, seed 000 process 8) is counted once the cycle is completed or its
results report is saved: met, not met, or not reported (no results report, or a goal typed as free text before it was
a choice that names neither outcome plainly).
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Numeric,
    Select,
    String,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import dashboard_rollup as rollup
from models import measures
from models.assessments import Assessment, Phase, RaterKind
from models.base import Base, utcnow
from models.cycles import SESSION_IS_LIVE, Cycle, ElementSession, SessionAttendance
from models.district import District, ProgramPlacement, place_by_name
from models.eligibility import ProgramFacts, SessionFact, TeamFacts, left_members
from models.facts import CycleFact, goal_chosen
from models.forms import RESULTS_FORM, FormEntry
from models.observations import Observation
from models.plan import PlcRole
from models.programs import Program
from models.reflections import Grade, Reflection
from models.states import ProgramState
from models.team_figures import FIGURES, Figures, TeamRow, TeamStats, delete_team_rows, lock_teams_of, team_figures
from models.teams import CycleAssignment, Team, TeamMember


class ProgramStats(Figures, Base):
    """One program's figures as of `refreshed_at`, with where it belongs, for grouped dashboard queries."""

    __tablename__ = "dashboard_program_stats"
    __table_args__ = (
        Index("ix_dashboard_program_stats_district_year", "district_id", "year"),
        Index("ix_dashboard_program_stats_network", "network_id"),
        Index("ix_dashboard_program_stats_school", "school_id"),
    )

    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    network_id: Mapped[int] = mapped_column(ForeignKey("district_networks.id", ondelete="CASCADE"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("district_schools.id", ondelete="CASCADE"))
    year: Mapped[int]
    state: Mapped[str] = mapped_column(String(32))
    learning_area: Mapped[str] = mapped_column(String(255))
    grade_level: Mapped[str] = mapped_column(String(64))
    teams: Mapped[int]
    # Added after the others (migration 0016), with a default for the rows already there.
    goals_met: Mapped[int] = mapped_column(server_default="0")
    goals_not_met: Mapped[int] = mapped_column(server_default="0")
    goals_not_reported: Mapped[int] = mapped_column(server_default="0")
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResultStats(Base):
    """The student results a program's cycles targeted, per learning area and grade: sums, so they re-aggregate."""

    __tablename__ = "dashboard_result_stats"
    __table_args__ = (Index("ix_dashboard_result_stats_district_year", "district_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    network_id: Mapped[int] = mapped_column(ForeignKey("district_networks.id", ondelete="CASCADE"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("district_schools.id", ondelete="CASCADE"))
    year: Mapped[int]
    learning_area: Mapped[str] = mapped_column(String(255))
    grade_level: Mapped[str] = mapped_column(String(64))
    # What the sums are in (models/measures.py): "percent" (percentages, and mean scores as a percentage of their
    # N), "count" (numbers of pupils), or "" (cycles recorded before measures were stated): never summed together.
    measure: Mapped[str] = mapped_column(String(8), server_default="")
    cycles: Mapped[int]
    baseline_sum: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    result_sum: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    improved: Mapped[int]


class CompetencyStats(Base):
    """Teachers' own competency levels of a program, per competency and phase (start, end): counts and sums, so they
    re-aggregate per school, network or district (models/assessments.py)."""

    __tablename__ = "dashboard_competency_stats"
    __table_args__ = (Index("ix_dashboard_competency_stats_district_year", "district_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("plc_programs.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))
    network_id: Mapped[int] = mapped_column(ForeignKey("district_networks.id", ondelete="CASCADE"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("district_schools.id", ondelete="CASCADE"))
    year: Mapped[int]
    learning_area: Mapped[str] = mapped_column(String(255))
    grade_level: Mapped[str] = mapped_column(String(64))
    competency: Mapped[str] = mapped_column(String(8))
    phase: Mapped[str] = mapped_column(String(16))
    teachers: Mapped[int]
    level_sum: Mapped[int]


# --- Refresh ----------------------------------------------------------------------------------------------------


def _year(approved_on: date | None, created_at: datetime) -> int:
    return approved_on.year if approved_on else created_at.year


def refresh_district(db: Session, district: District) -> int:
    """Recompute the district's summary rows from the PLC tables; returns how many programs it covers. The
    district's program rows are locked first, in id order, as the live figures lock them (refresh_programs), so a
    full rebuild and a live recomputation wait for each other instead of deadlocking or deleting each other's rows
    (PostgreSQL; SQLite has one writer at a time)."""
    place_by_name(db, district)
    db.execute(
        select(Program.id)
        .where(Program.id.in_(select(ProgramPlacement.program_id).where(ProgramPlacement.district_id == district.id)))
        .order_by(Program.id)
        .with_for_update(key_share=True)
    )
    lock_teams_of(db, select(ProgramPlacement.program_id).where(ProgramPlacement.district_id == district.id))
    return _refresh(db, district.id, None)


def _refresh(db: Session, district_id: int, program_ids: Collection[int] | None) -> int:
    """Recompute the summary rows of the district's programs (of `program_ids` only, when given)."""
    district = _District(district_id)
    placed = select(ProgramPlacement.program_id).where(ProgramPlacement.district_id == district.id)
    if program_ids is not None:
        placed = placed.where(ProgramPlacement.program_id.in_(sorted(program_ids)))
    placements = {
        row.program_id: row
        for row in db.execute(
            select(
                ProgramPlacement.program_id,
                ProgramPlacement.network_id,
                ProgramPlacement.school_id,
                Program.state,
                Program.approved_on,
                Program.ended_on,
                Program.created_at,
                Program.planned_cycles,
                Program.min_hours,
                Program.learning_area,
                Program.grade_level,
            )
            .join(Program, Program.id == ProgramPlacement.program_id)
            .where(ProgramPlacement.program_id.in_(placed))
        )
    }
    team_program = {
        team_id: program_id
        for team_id, program_id in db.execute(select(Team.id, Team.program_id).where(Team.program_id.in_(placed)))
    }
    teams_in = select(Team.id).where(Team.program_id.in_(placed))
    members: dict[int, set[int]] = defaultdict(set)
    for team_id, membership_id in db.execute(
        select(TeamMember.team_id, TeamMember.membership_id).where(TeamMember.team_id.in_(teams_in))
    ):
        members[team_id].add(membership_id)
    left = left_members(db, {m for team_members in members.values() for m in team_members})
    roles: dict[int, dict[tuple[int, int], PlcRole]] = defaultdict(dict)
    for team_id, number, membership_id, role in db.execute(
        select(
            CycleAssignment.team_id, CycleAssignment.cycle_number, CycleAssignment.membership_id, CycleAssignment.role
        ).where(CycleAssignment.team_id.in_(teams_in))
    ):
        roles[team_id][(number, membership_id)] = PlcRole(role)
    cycles = {
        row.id: row
        for row in db.execute(
            select(
                Cycle.id,
                Cycle.team_id,
                Cycle.number,
                Cycle.learning_area,
                Cycle.grade_level,
                Cycle.baseline_value,
                Cycle.result_value,
                Cycle.measure_kind,
                Cycle.measure_out_of,
            ).where(Cycle.team_id.in_(teams_in))
        )
    }
    cycles_in = select(Cycle.id).join(Team, Team.id == Cycle.team_id).where(Team.program_id.in_(placed))
    attendees: dict[int, set[int]] = defaultdict(set)
    for session_id, membership_id in db.execute(
        select(SessionAttendance.session_id, SessionAttendance.membership_id)
        .join(ElementSession, ElementSession.id == SessionAttendance.session_id)
        .where(ElementSession.cycle_id.in_(cycles_in), SESSION_IS_LIVE)
    ):
        attendees[session_id].add(membership_id)
    sessions: dict[int, list[SessionFact]] = defaultdict(list)
    elements_in_cycle: dict[int, set[int]] = defaultdict(set)
    for session_id, cycle_id, element, held_on, hours in db.execute(
        select(
            ElementSession.id,
            ElementSession.cycle_id,
            ElementSession.element,
            ElementSession.held_on,
            ElementSession.hours,
        ).where(ElementSession.cycle_id.in_(cycles_in), SESSION_IS_LIVE)
    ):
        cycle = cycles[cycle_id]
        sessions[cycle.team_id].append(
            SessionFact(cycle.number, element, held_on, Decimal(hours), frozenset(attendees.get(session_id, ())))
        )
        elements_in_cycle[cycle_id].add(element)
    reflections: dict[int, dict[tuple[int, int], datetime]] = defaultdict(dict)
    for cycle_id, membership_id, submitted_at in db.execute(
        select(Reflection.cycle_id, Reflection.membership_id, Reflection.submitted_at).where(
            Reflection.cycle_id.in_(cycles_in)
        )
    ):
        cycle = cycles[cycle_id]
        reflections[cycle.team_id][(cycle.number, membership_id)] = submitted_at
    cycle_facts: dict[int, dict[int, CycleFact]] = defaultdict(dict)  # team → cycle id → what it adds
    for cycle in cycles.values():
        cycle_facts[cycle.team_id][cycle.id] = CycleFact(elements=elements_in_cycle.get(cycle.id, set()))
    for (cycle_id,) in db.execute(
        select(Reflection.cycle_id)
        .where(Reflection.cycle_id.in_(cycles_in))
        .where(select(Grade.id).where(Grade.reflection_id == Reflection.id).exists())
    ):
        cycle_facts[cycles[cycle_id].team_id][cycle_id].graded += 1
    observations: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for cycle_id, buddy_id in db.execute(
        select(Observation.cycle_id, Observation.buddy_id).where(
            Observation.cycle_id.in_(cycles_in), Observation.withdrawn_at.is_(None)
        )
    ):
        cycle = cycles[cycle_id]
        observations[cycle.team_id].add((cycle.number, buddy_id))
    for cycle_id, answers in db.execute(
        select(FormEntry.cycle_id, FormEntry.answers).where(
            FormEntry.cycle_id.in_(cycles_in), FormEntry.form == RESULTS_FORM
        )
    ):
        cycle_facts[cycles[cycle_id].team_id][cycle_id].goal = goal_chosen(answers)

    stats: dict[int, dict[str, Any]] = {}
    now = utcnow()
    for program_id, p in placements.items():
        stats[program_id] = {
            "program_id": program_id,
            "district_id": district.id,
            "network_id": p.network_id,
            "school_id": p.school_id,
            "year": _year(p.approved_on, p.created_at),
            "state": str(p.state.value if isinstance(p.state, ProgramState) else p.state),
            "learning_area": p.learning_area.strip(),
            "grade_level": p.grade_level.strip(),
            "teams": 0,
            **dict.fromkeys(FIGURES, 0),
            "refreshed_at": now,
        }
    team_rows: list[dict[str, Any]] = []
    for team_id, program_id in team_program.items():
        row, p = stats[program_id], placements[program_id]
        facts = TeamFacts(
            member_ids=frozenset(members[team_id]),
            sessions=tuple(sessions[team_id]),
            roles=roles[team_id],
            reflections=reflections[team_id],
            observations=frozenset(observations[team_id]),
            left={m: left[m] for m in members[team_id] if m in left},
        )
        program_facts = ProgramFacts(
            ProgramState(p.state), p.approved_on, p.planned_cycles, Decimal(p.min_hours), p.ended_on
        )
        figures = team_figures(program_facts, facts, cycle_facts[team_id].values())
        team_rows.append({"team_id": team_id, "program_id": program_id, **figures})
        row["teams"] += 1
        for name in FIGURES:
            row[name] += figures[name]
    results: dict[tuple[int, str, str, str], dict[str, Any]] = {}
    for cycle in cycles.values():
        program_id = team_program[cycle.team_id]
        row = stats[program_id]
        if cycle.baseline_value is None or cycle.result_value is None:
            continue
        area = cycle.learning_area.strip() or row["learning_area"]
        grade = cycle.grade_level.strip() or row["grade_level"]
        out_of = Decimal(cycle.measure_out_of) if cycle.measure_out_of is not None else None
        measure = measures.comparable_as(cycle.measure_kind, out_of)
        # A measure counted apart (not stated, or a mean score without its N) is summed as recorded.
        kind = cycle.measure_kind if measure != measures.NOT_STATED else ""
        key = (program_id, area, grade, measure)
        result = results.setdefault(
            key,
            {
                "program_id": program_id,
                "district_id": district.id,
                "network_id": row["network_id"],
                "school_id": row["school_id"],
                "year": row["year"],
                "learning_area": area,
                "grade_level": grade,
                "measure": measure,
                "cycles": 0,
                "baseline_sum": Decimal(0),
                "result_sum": Decimal(0),
                "improved": 0,
            },
        )
        result["cycles"] += 1
        result["baseline_sum"] += measures.in_comparable_terms(kind, Decimal(cycle.baseline_value), out_of)
        result["result_sum"] += measures.in_comparable_terms(kind, Decimal(cycle.result_value), out_of)
        result["improved"] += 1 if cycle.result_value > cycle.baseline_value else 0
    before = rollup.before_replacing(db, district.id, program_ids)  # the district rows follow (dashboard_rollup)
    if program_ids is None:
        db.execute(delete(ResultStats).where(ResultStats.district_id == district.id))
        db.execute(delete(CompetencyStats).where(CompetencyStats.district_id == district.id))
        db.execute(delete(ProgramStats).where(ProgramStats.district_id == district.id))
    else:
        db.execute(delete(ResultStats).where(ResultStats.program_id.in_(sorted(program_ids))))
        db.execute(delete(CompetencyStats).where(CompetencyStats.program_id.in_(sorted(program_ids))))
        db.execute(delete(ProgramStats).where(ProgramStats.program_id.in_(sorted(program_ids))))
    delete_team_rows(db, placed if program_ids is None else program_ids)
    _insert_in_chunks(db, TeamStats, team_rows)
    _insert_in_chunks(db, ProgramStats, list(stats.values()))
    _insert_in_chunks(db, ResultStats, list(results.values()))
    _insert_in_chunks(db, CompetencyStats, _competency_rows(db, placed, stats))
    rollup.replaced(db, district.id, program_ids, before)
    return len(stats)


def _competency_rows(
    db: Session, placed: Select[Any] | list[int], stats: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The teachers' own levels per program, competency and phase (a trainer's ratings are not counted here)."""
    rows = db.execute(
        select(Assessment.program_id, Assessment.competency, Assessment.phase, func.count(), func.sum(Assessment.level))
        .where(Assessment.program_id.in_(placed), Assessment.rater_kind == RaterKind.SELF)
        .group_by(Assessment.program_id, Assessment.competency, Assessment.phase)
    )
    where = ("district_id", "network_id", "school_id", "year", "learning_area", "grade_level")
    return [
        {**{key: stats[program_id][key] for key in where}, "program_id": program_id, "competency": code,
         "phase": Phase(phase).value, "teachers": int(count), "level_sum": int(total)}
        for program_id, code, phase, count, total in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class _District:
    id: int


def _insert_in_chunks(db: Session, table: type[Base], rows: Sequence[dict[str, Any]], size: int = 2000) -> None:
    for start in range(0, len(rows), size):
        db.execute(insert(table), list(rows[start : start + size]))


def refresh_all(db: Session) -> dict[str, int]:
    return {district.code: refresh_district(db, district) for district in db.scalars(select(District))}


def refresh_programs(db: Session, program_ids: Collection[int]) -> int:
    """Recompute the summary rows of these programs (those placed in a district), each under a lock on its program
    row so that concurrent writers to one program recompute one after the other; returns how many."""
    ordered = sorted(set(program_ids))
    # Locked in id order, so two writers touching the same programs never wait on each other in a circle; FOR NO KEY
    # UPDATE, so not against the key-share lock a row inserted under a program holds until commit (an assessment).
    db.execute(select(Program.id).where(Program.id.in_(ordered)).order_by(Program.id).with_for_update(key_share=True))
    by_district: dict[int, set[int]] = defaultdict(set)
    for program_id, district_id in db.execute(
        select(ProgramPlacement.program_id, ProgramPlacement.district_id).where(
            ProgramPlacement.program_id.in_(ordered)
        )
    ):
        by_district[district_id].add(program_id)
    lock_teams_of(db, ordered)
    return sum(_refresh(db, district_id, ids) for district_id, ids in by_district.items())


@cache
def _move_statements() -> tuple[Update, Update, Update, Select[Any]]:
    """Built once: a program's row moved by one team's difference (the team's old row read in the same statement),
    then the team's row replaced; and both in one statement, for PostgreSQL (a data-modifying WITH: the team's row
    is replaced once whatever the outer UPDATE reads, and `old` is read before it, in the statement's snapshot).
    Each returns the program's district key and stamp, for the district rows (models/dashboard_rollup.py); the one
    statement also the difference it added, which elsewhere the team's old row, read first, gives.
    Parameters: the_team, now and new_<figure> for each figure."""
    program_table, team_table = typing.cast(Table, ProgramStats.__table__), typing.cast(Table, TeamStats.__table__)
    program, team = program_table.c, team_table.c
    new = {name: bindparam(f"new_{name}", type_=team[name].type) for name in FIGURES}
    stamped = {"refreshed_at": bindparam("now", type_=program.refreshed_at.type)}
    key = (program.district_id, program.year, program.learning_area, program.grade_level, program.refreshed_at)
    move = (
        update(program_table)
        .where(program.program_id == team.program_id, team.team_id == bindparam("the_team"))
        .values({**{name: program[name] + (new[name] - team[name]) for name in FIGURES}, **stamped})
        .returning(*key)
    )
    replace = update(team_table).where(team.team_id == bindparam("the_team")).values(new)
    team_row = select(team_table).where(team.team_id == bindparam("the_team"))
    old = team_row.cte("old")
    both = (
        update(program_table)
        .where(program.program_id == old.c.program_id)
        .values({**{name: program[name] + (new[name] - old.c[name]) for name in FIGURES}, **stamped})
        .add_cte(replace.returning(team.team_id).cte("replaced"))
        .returning(*key, *(new[name] - old.c[name] for name in FIGURES))
    )
    return move, replace, both, team_row


def move_programs(db: Session, teams: Mapping[int, TeamRow]) -> set[int]:
    """Replace these teams' rows and move their programs' summary rows by the difference, stamped now: an UPDATE
    that adds (so writers to two teams of one program both count) and reads the team's old row in the same
    statement. Returns the placed programs it could not move (a team without its row yet, after an upgrade), for the
    caller to recompute whole. A program not placed has no rows to move, and none a recomputation would write: it is
    left alone, not locked (its program's lock after its team's would reverse the order a whole recomputation locks
    in, a deadlock with an edit of the program)."""
    now = utcnow()
    move, replace, both, team_row = _move_statements()
    connection = db.connection()  # Core statements on the session's connection: no ORM work per statement
    one_statement = connection.dialect.name == "postgresql"
    unfinished: set[int] = set()
    # In program order: each program's row stays locked until commit, so two writers to teams of the same programs
    # take them in one order (in team order, ids interleaved across programs would make a circle).
    for team_id, (program_id, figures) in sorted(teams.items(), key=lambda item: (item[1].program_id, item[0])):
        params = {"the_team": team_id, "now": now, **{f"new_{name}": figures[name] for name in FIGURES}}
        moved: list[Sequence[Any]]
        if one_statement:
            moved = list(connection.execute(both, params))
        elif (was := connection.execute(team_row, params).first()) is not None:
            changes = [figures[name] - was._mapping[name] for name in FIGURES]
            moved = [(*row, *changes) for row in connection.execute(move, params)]
            if moved:
                connection.execute(replace, params)
        else:
            moved = []
        if not moved:
            unfinished.add(program_id)  # recomputed whole if placed, which writes the team's row
        rollup.note_moved(db, moved)
    if not unfinished:
        return unfinished
    return set(
        db.scalars(select(ProgramPlacement.program_id).where(ProgramPlacement.program_id.in_(sorted(unfinished))))
    )
