"""The district dashboard's figures: one summary row per program (and per program, learning area and grade for the
student results its cycles targeted), refreshed in bulk, so that every dashboard view is a handful of grouped
queries over a few hundred rows, whatever the number of sessions, attendances and reflections behind them.

Refresh (`refresh_district`) reads a district's programs with a few bulk queries, applies the certificate rule of
`models.eligibility` to every teacher (the same pure function the progress page uses), and replaces the district's
summary rows in one transaction. It runs after `plc-bridge seed-demo`, from `plc-bridge dashboard refresh` (a
timer in production) and from the dashboard's "Refresh figures" button; the page says when the figures are from.

Definitions: a team's cycle is *completed* when each of the five elements has a session in it; *teacher-hours*
are session hours times the teachers present; a program's *year* is the year of its approval (of its creation
before approval); a cycle's student result counts when both its baseline and its result values are recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    Numeric,
    String,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, utcnow
from models.catalog import activity_kinds, competencies, elements
from models.cycles import ELEMENT_NUMBERS, Cycle, ElementSession, SessionAttendance
from models.district import District, Network, ProgramPlacement, Reach, School, place_by_name
from models.eligibility import ProgramFacts, SessionFact, TeamFacts, eligibility
from models.observations import Observation
from models.plan import PlcRole
from models.programs import Program
from models.reflections import Grade, Reflection
from models.states import ProgramState
from models.teams import CycleAssignment, Team, TeamMember

HOURS = Numeric(14, 2)


class ProgramStats(Base):
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
    teachers: Mapped[int]
    cycles: Mapped[int]
    cycles_completed: Mapped[int]
    teachers_eligible: Mapped[int]
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
    cycles: Mapped[int]
    baseline_sum: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    result_sum: Mapped[Decimal] = mapped_column(Numeric(16, 3))
    improved: Mapped[int]


# --- Refresh ----------------------------------------------------------------------------------------------------


def _year(approved_on: date | None, created_at: datetime) -> int:
    return approved_on.year if approved_on else created_at.year


def refresh_district(db: Session, district: District) -> int:
    """Recompute the district's summary rows from the PLC tables; returns how many programs it covers."""
    place_by_name(db, district)
    placed = select(ProgramPlacement.program_id).where(ProgramPlacement.district_id == district.id)
    placements = {
        row.program_id: row
        for row in db.execute(
            select(
                ProgramPlacement.program_id,
                ProgramPlacement.network_id,
                ProgramPlacement.school_id,
                Program.state,
                Program.approved_on,
                Program.created_at,
                Program.planned_cycles,
                Program.min_hours,
                Program.learning_area,
                Program.grade_level,
            )
            .join(Program, Program.id == ProgramPlacement.program_id)
            .where(ProgramPlacement.district_id == district.id)
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
            ).where(Cycle.team_id.in_(teams_in))
        )
    }
    cycles_in = select(Cycle.id).join(Team, Team.id == Cycle.team_id).where(Team.program_id.in_(placed))
    attendees: dict[int, set[int]] = defaultdict(set)
    for session_id, membership_id in db.execute(
        select(SessionAttendance.session_id, SessionAttendance.membership_id)
        .join(ElementSession, ElementSession.id == SessionAttendance.session_id)
        .where(ElementSession.cycle_id.in_(cycles_in))
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
        ).where(ElementSession.cycle_id.in_(cycles_in))
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
    graded: dict[int, int] = defaultdict(int)
    for (cycle_id,) in db.execute(
        select(Reflection.cycle_id)
        .where(Reflection.cycle_id.in_(cycles_in))
        .where(select(Grade.id).where(Grade.reflection_id == Reflection.id).exists())
    ):
        graded[team_program[cycles[cycle_id].team_id]] += 1
    observations: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for cycle_id, buddy_id in db.execute(
        select(Observation.cycle_id, Observation.buddy_id).where(Observation.cycle_id.in_(cycles_in))
    ):
        cycle = cycles[cycle_id]
        observations[cycle.team_id].add((cycle.number, buddy_id))

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
            "teachers": 0,
            "cycles": 0,
            "cycles_completed": 0,
            "teachers_eligible": 0,
            "teacher_hours": Decimal(0),
            **{f"hours_e{n}": Decimal(0) for n in ELEMENT_NUMBERS},
            "model_lessons": 0,
            "observations": 0,
            "reflections": 0,
            "reflections_graded": graded.get(program_id, 0),
            "refreshed_at": now,
        }
    for team_id, program_id in team_program.items():
        row, p = stats[program_id], placements[program_id]
        facts = TeamFacts(
            member_ids=frozenset(members[team_id]),
            sessions=tuple(sessions[team_id]),
            roles=roles[team_id],
            reflections=reflections[team_id],
            observations=frozenset(observations[team_id]),
        )
        program_facts = ProgramFacts(ProgramState(p.state), p.approved_on, p.planned_cycles, Decimal(p.min_hours))
        row["teams"] += 1
        row["teachers"] += len(facts.member_ids)
        row["teachers_eligible"] += sum(
            1 for member in facts.member_ids if eligibility(member, program_facts, facts).eligible
        )
        for fact in facts.sessions:
            teacher_hours = fact.hours * len(fact.attendees)
            row["teacher_hours"] += teacher_hours
            row[f"hours_e{fact.element}"] += teacher_hours
        row["observations"] += len(facts.observations)
        row["reflections"] += len(facts.reflections)
    results: dict[tuple[int, str, str], dict[str, Any]] = {}
    for cycle in cycles.values():
        program_id = team_program[cycle.team_id]
        row = stats[program_id]
        row["cycles"] += 1
        completed = elements_in_cycle.get(cycle.id, set()) >= set(ELEMENT_NUMBERS)
        if completed:
            row["cycles_completed"] += 1
            # A Model Teacher's lesson counts once the cycle it was planned for is completed.
            row["model_lessons"] += 1
        if cycle.baseline_value is None or cycle.result_value is None:
            continue
        area = cycle.learning_area.strip() or row["learning_area"]
        grade = cycle.grade_level.strip() or row["grade_level"]
        key = (program_id, area, grade)
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
                "cycles": 0,
                "baseline_sum": Decimal(0),
                "result_sum": Decimal(0),
                "improved": 0,
            },
        )
        result["cycles"] += 1
        result["baseline_sum"] += Decimal(cycle.baseline_value)
        result["result_sum"] += Decimal(cycle.result_value)
        result["improved"] += 1 if cycle.result_value > cycle.baseline_value else 0
    db.execute(delete(ResultStats).where(ResultStats.district_id == district.id))
    db.execute(delete(ProgramStats).where(ProgramStats.district_id == district.id))
    _insert_in_chunks(db, ProgramStats, list(stats.values()))
    _insert_in_chunks(db, ResultStats, list(results.values()))
    return len(stats)


def _insert_in_chunks(db: Session, table: type[Base], rows: Sequence[dict[str, Any]], size: int = 2000) -> None:
    for start in range(0, len(rows), size):
        db.execute(insert(table), list(rows[start : start + size]))


def refresh_all(db: Session) -> dict[str, int]:
    return {district.code: refresh_district(db, district) for district in db.scalars(select(District))}


def refreshed_at(db: Session, district_ids: Iterable[int]) -> datetime | None:
    value: datetime | None = db.scalar(
        select(func.min(ProgramStats.refreshed_at)).where(ProgramStats.district_id.in_(list(district_ids)))
    )
    return value


# --- Reading: filters, visibility and grouped figures -----------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    network_id: int | None = None
    school_id: int | None = None
    learning_area: str | None = None
    grade_level: str | None = None


def _visible(table: type[ProgramStats] | type[ResultStats], reach: Reach) -> ColumnElement[bool]:
    """What the leader may see, written so that an empty reach matches nothing."""
    parts: list[ColumnElement[bool]] = []
    if reach.led_district_ids:
        parts.append(table.district_id.in_(sorted(reach.led_district_ids)))
    if reach.led_network_ids:
        parts.append(table.network_id.in_(sorted(reach.led_network_ids)))
    if reach.led_school_ids:
        parts.append(table.school_id.in_(sorted(reach.led_school_ids)))
    return or_(*parts) if parts else false()


def _where(table: type[ProgramStats] | type[ResultStats], reach: Reach, filters: Filters) -> ColumnElement[bool]:
    conditions = [_visible(table, reach)]
    if filters.year is not None:
        conditions.append(table.year == filters.year)
    if filters.network_id is not None:
        conditions.append(table.network_id == filters.network_id)
    if filters.school_id is not None:
        conditions.append(table.school_id == filters.school_id)
    if filters.learning_area is not None:
        conditions.append(table.learning_area == filters.learning_area)
    if filters.grade_level is not None:
        conditions.append(table.grade_level == filters.grade_level)
    return and_(*conditions)


@dataclass(frozen=True)
class Figures:
    """One row of a dashboard table: a school, a network, a learning area, a grade, a year, or the total."""

    key: Any
    programs: int
    programs_running: int
    teams: int
    teachers: int
    cycles_completed: int
    teachers_eligible: int
    teacher_hours: Decimal

    @property
    def eligible_share(self) -> float:
        return self.teachers_eligible / self.teachers if self.teachers else 0.0


_FIGURES = (
    func.count(),
    func.coalesce(func.sum(case((ProgramStats.state == ProgramState.RUNNING.value, 1), else_=0)), 0),
    func.coalesce(func.sum(ProgramStats.teams), 0),
    func.coalesce(func.sum(ProgramStats.teachers), 0),
    func.coalesce(func.sum(ProgramStats.cycles_completed), 0),
    func.coalesce(func.sum(ProgramStats.teachers_eligible), 0),
    func.coalesce(func.sum(ProgramStats.teacher_hours), 0),
)


def figures_by(db: Session, reach: Reach, filters: Filters, dimension: str) -> list[Figures]:
    """Figures grouped by `dimension` ("school", "network", "learning_area", "grade_level", "year"), or the one
    total row for "total". Rows with no key (programs of a whole network, in the school table) keep key None."""
    columns = {
        "school": ProgramStats.school_id,
        "network": ProgramStats.network_id,
        "learning_area": ProgramStats.learning_area,
        "grade_level": ProgramStats.grade_level,
        "year": ProgramStats.year,
    }
    where = _where(ProgramStats, reach, filters)
    if dimension == "total":
        row = db.execute(select(*_FIGURES).where(where)).one()
        return [_figures(None, row)]
    column = columns[dimension]
    rows = db.execute(select(column, *_FIGURES).where(where).group_by(column).order_by(column)).all()
    return [_figures(row[0], row[1:]) for row in rows]


def _figures(key: Any, row: Sequence[Any]) -> Figures:
    programs, running, teams, teachers, completed, eligible = (int(value) for value in row[:6])
    hours = Decimal(row[6]).quantize(Decimal("0.01"))
    return Figures(key, programs, running, teams, teachers, completed, eligible, hours)


@dataclass(frozen=True)
class CompetencyCoverage:
    code: str
    kind: str
    name: dict[str, str]
    teacher_hours: Decimal  # element sessions tagged with the competency, times teachers present
    activities: int  # Model lessons, observations and reflections tagged with it


def competency_coverage(db: Session, reach: Reach, filters: Filters) -> list[CompetencyCoverage]:
    """Per OBEC competency (C1–C5, F1–F6): the teacher-hours and activities that the PLC work tagged with it."""
    sums = db.execute(
        select(
            *(func.coalesce(func.sum(getattr(ProgramStats, f"hours_e{n}")), 0) for n in ELEMENT_NUMBERS),
            func.coalesce(func.sum(ProgramStats.model_lessons), 0),
            func.coalesce(func.sum(ProgramStats.observations), 0),
            func.coalesce(func.sum(ProgramStats.reflections), 0),
        ).where(_where(ProgramStats, reach, filters))
    ).one()
    hours = {n: Decimal(sums[n - 1]) for n in ELEMENT_NUMBERS}
    kinds = activity_kinds()
    counts = {"model-lesson": int(sums[5]), "buddy-observation": int(sums[6]), "reflection": int(sums[7])}
    coverage = []
    for code, competency in competencies().items():
        element_hours = sum((hours[e.number] for e in elements() if code in e.competencies), Decimal(0))
        activities = sum(count for slug, count in counts.items() if code in kinds[slug].competencies)
        coverage.append(
            CompetencyCoverage(
                code, competency.kind, competency.name, element_hours.quantize(Decimal("0.01")), activities
            )
        )
    return coverage


@dataclass(frozen=True)
class StudentResults:
    learning_area: str
    grade_level: str
    cycles: int
    baseline: Decimal  # mean of the cycles' baseline values
    result: Decimal  # mean of their result values
    improved: int

    @property
    def change(self) -> Decimal:
        return self.result - self.baseline


def student_results(
    db: Session, reach: Reach, filters: Filters, by: Sequence[str] = ("learning_area", "grade_level")
) -> list[StudentResults]:
    """Baseline against result of the cycles' targeted student learning, by learning area and grade (or by one of
    them: the other is then reported as "")."""
    keys = [getattr(ResultStats, name) for name in by]
    rows = db.execute(
        select(
            *keys,
            func.sum(ResultStats.cycles),
            func.sum(ResultStats.baseline_sum),
            func.sum(ResultStats.result_sum),
            func.sum(ResultStats.improved),
        )
        .where(_where(ResultStats, reach, filters))
        .group_by(*keys)
        .order_by(*keys)
    ).all()
    found = []
    for row in rows:
        named = dict(zip(by, row[: len(by)], strict=True))
        cycles, baseline, result, improved = row[len(by) :]
        n = int(cycles)
        found.append(
            StudentResults(
                named.get("learning_area", ""),
                named.get("grade_level", ""),
                n,
                (Decimal(baseline) / n).quantize(Decimal("0.1")),
                (Decimal(result) / n).quantize(Decimal("0.1")),
                int(improved),
            )
        )
    if by == ("grade_level",):
        found.sort(key=lambda r: grade_sort_key(r.grade_level))
    return found


@dataclass(frozen=True)
class FilterOptions:
    years: list[int]
    networks: list[tuple[int, str]]
    schools: list[tuple[int, str, int]]  # id, name, network id
    learning_areas: list[str]
    grade_levels: list[str]


def filter_options(db: Session, reach: Reach) -> FilterOptions:
    visible = _visible(ProgramStats, reach)
    combinations = db.execute(
        select(ProgramStats.year, ProgramStats.learning_area, ProgramStats.grade_level).where(visible).distinct()
    ).all()
    years = sorted({row[0] for row in combinations}, reverse=True)
    areas = {row[1] for row in combinations if row[1]}
    grades = {row[2] for row in combinations if row[2]}
    networks = db.execute(
        select(Network.id, Network.name).where(Network.id.in_(sorted(reach.network_ids))).order_by(Network.code)
    ).all()
    schools = db.execute(
        select(School.id, School.name, School.network_id)
        .where(School.id.in_(sorted(reach.school_ids)))
        .order_by(School.code)
    ).all()
    return FilterOptions(
        years,
        [(row[0], row[1]) for row in networks],
        [(row[0], row[1], row[2]) for row in schools],
        sorted(areas),
        sorted(grades, key=grade_sort_key),
    )


def grade_sort_key(grade: str) -> tuple[int, str]:
    """Thai grade levels in school order: ป.1–ป.6 (primary) before ม.1–ม.6 (secondary), others last."""
    stages = {"อ.": 0, "ป.": 1, "ม.": 2}
    for prefix, stage in stages.items():
        if grade.startswith(prefix) and grade[len(prefix) :].isdigit():
            return (stage * 10 + int(grade[len(prefix) :]), grade)
    return (99, grade)


# --- The public summary: aggregates only, small groups suppressed -----------------------------------------------

# A group with fewer teachers than this is not shown on the public page, so no one can be picked out of it.
PUBLIC_MIN_TEACHERS = 10
# Student results: a learning area and grade needs at least this many cycles (teams' targets) to be shown.
PUBLIC_MIN_CYCLES = 5


def suppress_small(rows: list[Figures]) -> tuple[list[Figures], int]:
    """The rows safe to publish, and how many were withheld. When only one row would be withheld, the next
    smallest is withheld too, so that the total minus the shown rows does not reveal it."""
    small = [row for row in rows if row.teachers < PUBLIC_MIN_TEACHERS]
    shown = [row for row in rows if row.teachers >= PUBLIC_MIN_TEACHERS]
    if len(small) == 1 and shown:
        smallest = min(shown, key=lambda row: row.teachers)
        shown = [row for row in shown if row is not smallest]
        small.append(smallest)
    return shown, len(small)


def public_reach(district: District) -> Reach:
    return Reach(led_district_ids=frozenset({district.id}), district_ids=frozenset({district.id}))


def public_districts(db: Session) -> list[District]:
    return list(db.scalars(select(District).where(District.public_summary.is_(True)).order_by(District.name)))


def names(db: Session, model: type[Network] | type[School], ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row_id: name for row_id, name in db.execute(select(model.id, model.name).where(model.id.in_(wanted)))}
