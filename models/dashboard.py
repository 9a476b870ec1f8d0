"""Reading the district dashboard: filters, what a leader may see, the grouped figures of every view, and the public
summary (aggregates only, small groups withheld), all over the precomputed rows of models/dashboard_stats.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Index,
    and_,
    case,
    false,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from models import dashboard_rollup as rollup
from models.assessments import Phase
from models.catalog import activity_kinds, competencies, elements
from models.cycles import ELEMENT_NUMBERS
from models.dashboard_rollup import DistrictCompetencyStats, DistrictResultStats, DistrictStats
from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats
from models.district import Network, Reach, School
from models.states import ProgramState

# A network's or a school's leader reads these rows by network or school (_visible); without the indexes each of
# their pages read every row of the nation (0031). Declared here, the reading side: models/dashboard_stats.py writes.
Index("ix_dashboard_result_stats_network", ResultStats.network_id)
Index("ix_dashboard_result_stats_school", ResultStats.school_id)
Index("ix_dashboard_competency_stats_network", CompetencyStats.network_id)
Index("ix_dashboard_competency_stats_school", CompetencyStats.school_id)


def refreshed_at(db: Session, district_ids: Iterable[int]) -> datetime | None:
    """The figures are as of the newest change they hold (the district rows keep their programs' newest)."""
    rollup.apply(db)
    value: datetime | None = db.scalar(
        select(func.max(DistrictStats.refreshed_at)).where(DistrictStats.district_id.in_(list(district_ids)))
    )
    return value


# --- Reading: filters, visibility and grouped figures -----------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    district_id: int | None = None
    network_id: int | None = None
    school_id: int | None = None
    learning_area: str | None = None
    grade_level: str | None = None
    province_id: int | None = None  # a leader of many districts looking at one province: its districts, below
    district_ids: frozenset[int] | None = None


def by_district(reach: Reach, filters: Filters) -> bool:
    """A leader of whole districts, no network or school chosen: the district rows (models/dashboard_rollup.py) hold
    the sums of the program rows they see, in a fraction of the rows (the nation: 25,000 of them)."""
    return (
        bool(reach.led_district_ids)
        and not reach.led_network_ids
        and not reach.led_school_ids
        and filters.network_id is None
        and filters.school_id is None
    )


# The program rows, or the district rows that add them up, with the same column names (by_district).
Table = Any


def _read(db: Session, statement: Any) -> Any:
    """Core rows on the session's connection, after a flush: no ORM work per row (the nation's thousands)."""
    db.flush()
    return db.connection().execute(statement)


def source(db: Session, reach: Reach, filters: Filters, program_rows: Table, district_rows: Table) -> Table:
    """The district rows when they hold what the leader sees (by_district), else the program rows. The district rows
    move when the transaction commits: what this one recomputed is added first, to be read (a no-op otherwise)."""
    if not by_district(reach, filters):
        return program_rows
    rollup.apply(db)
    return district_rows


def _visible(table: Table, reach: Reach) -> ColumnElement[bool]:
    """What the leader may see, written so that an empty reach matches nothing."""
    parts: list[ColumnElement[bool]] = []
    if reach.led_district_ids:
        parts.append(table.district_id.in_(sorted(reach.led_district_ids)))
    if reach.led_network_ids:
        parts.append(table.network_id.in_(sorted(reach.led_network_ids)))
    if reach.led_school_ids:
        parts.append(table.school_id.in_(sorted(reach.led_school_ids)))
    return or_(*parts) if parts else false()


def _where(table: Table, reach: Reach, filters: Filters) -> ColumnElement[bool]:
    conditions = [_visible(table, reach)]
    if (counted := _COUNTED.get(table)) is not None:  # a district row whose programs all left it
        conditions.append(counted > 0)
    if filters.year is not None:
        conditions.append(table.year == filters.year)
    if filters.district_id is not None:
        conditions.append(table.district_id == filters.district_id)
    if filters.district_ids is not None:
        conditions.append(table.district_id.in_(sorted(filters.district_ids)))
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
    # Cycles completed or reported, by the goal their results report chose (models/dashboard_stats.py).
    goals_met: int = 0
    goals_not_met: int = 0
    goals_not_reported: int = 0

    @property
    def eligible_share(self) -> float:
        return self.teachers_eligible / self.teachers if self.teachers else 0.0

    @property
    def goals_counted(self) -> int:
        return self.goals_met + self.goals_not_met + self.goals_not_reported


_COUNTED: dict[Any, Any] = {DistrictStats: DistrictStats.programs, DistrictResultStats: DistrictResultStats.cycles,
                            DistrictCompetencyStats: DistrictCompetencyStats.teachers}  # fmt: skip


def _figure_sums(table: Table) -> tuple[ColumnElement[Any], ...]:
    """A Figures row's values over program rows, or over the district rows that add them up."""
    counts: tuple[ColumnElement[Any], ColumnElement[Any]]
    if table is DistrictStats:
        counts = (func.coalesce(func.sum(table.programs), 0), func.coalesce(func.sum(table.programs_running), 0))
    else:
        running = func.sum(case((ProgramStats.state == ProgramState.RUNNING.value, 1), else_=0))
        counts = (func.count(), func.coalesce(running, 0))
    summed = ("teams", "teachers", "cycles_completed", "teachers_eligible", "teacher_hours", "goals_met",
              "goals_not_met", "goals_not_reported")  # fmt: skip
    return (*counts, *(func.coalesce(func.sum(getattr(table, name)), 0) for name in summed))


_GROUPS = {
    "district": "district_id",
    "network": "network_id",
    "school": "school_id",
    "learning_area": "learning_area",
    "grade_level": "grade_level",
    "year": "year",
}
_BY_DISTRICT = {"district", "learning_area", "grade_level", "year"}  # what the district rows are keyed by


def figures_by(db: Session, reach: Reach, filters: Filters, dimension: str) -> list[Figures]:
    """Figures grouped by `dimension` ("district", "school", "network", "learning_area", "grade_level", "year"), or the one
    total row for "total". Rows with no key (programs of a whole network, in the school table) keep key None."""
    return figures_grouped(db, reach, filters, [dimension])[dimension]


def figures_grouped(db: Session, reach: Reach, filters: Filters, dimensions: Sequence[str]) -> dict[str, list[Figures]]:
    """figures_by for each of `dimensions` at once; a dimension may join two ("district+learning_area": keyed by the
    pair, in the order of _GROUPS). On PostgreSQL one read of the rows serves them all (GROUPING SETS: the national
    view groups a hundred thousand programs five ways); elsewhere one query each, as figures_by."""
    wanted = list(dict.fromkeys(dimensions))
    keyed = all(set(_parts(d)) <= _BY_DISTRICT for d in wanted)
    table = source(db, reach, filters, ProgramStats, DistrictStats if keyed else ProgramStats)
    where = _where(table, reach, filters)
    if len(wanted) > 1 and db.get_bind().dialect.name == "postgresql":
        return _grouping_sets(db, table, where, wanted)
    return {dimension: _grouped(db, table, where, dimension) for dimension in wanted}


def _parts(dimension: str) -> list[str]:
    parts = [] if dimension == "total" else dimension.split("+")
    if parts != sorted(parts, key=list(_GROUPS).index):
        raise ValueError(f"{dimension}: join dimensions in the order of _GROUPS")
    return parts


def _grouped(db: Session, table: Table, where: ColumnElement[bool], dimension: str) -> list[Figures]:
    columns = [getattr(table, _GROUPS[part]) for part in _parts(dimension)]
    sums = _figure_sums(table)
    if not columns:
        return [_figures(None, _read(db, select(*sums).where(where)).one())]
    rows = _read(db, select(*columns, *sums).where(where).group_by(*columns).order_by(*columns)).all()
    n = len(columns)
    return [_figures(row[0] if n == 1 else tuple(row[:n]), row[n:]) for row in rows]


def _grouping_sets(
    db: Session, table: Table, where: ColumnElement[bool], dimensions: list[str]
) -> dict[str, list[Figures]]:
    """One statement for several groupings; each row says by GROUPING() which it belongs to. Ordered by the columns
    within each grouping, as _grouped orders them (NULL keys last), and an empty grouping still gives its total row."""
    names = [name for name in _GROUPS if any(name in _parts(d) for d in dimensions)]
    columns = [getattr(table, _GROUPS[name]) for name in names]
    masks = {
        sum(1 << (len(names) - 1 - i) for i, name in enumerate(names) if name not in _parts(d)): d for d in dimensions
    }
    which = func.grouping(*columns)  # two dimensions at least: one has a column
    statement = (
        select(which, *columns, *_figure_sums(table))
        .where(where)
        .group_by(func.grouping_sets(*(tuple_(*(getattr(table, _GROUPS[p]) for p in _parts(d))) for d in dimensions)))
        .order_by(which, *columns)
    )
    found: dict[str, list[Figures]] = {d: [] for d in dimensions}
    for row in _read(db, statement):
        dimension = masks[int(row[0])]
        keys = [row[1 + names.index(part)] for part in _parts(dimension)]
        key = None if not keys else keys[0] if len(keys) == 1 else tuple(keys)
        found[dimension].append(_figures(key, row[1 + len(names) :]))
    return found


def _figures(key: Any, row: Sequence[Any]) -> Figures:
    programs, running, teams, teachers, completed, eligible = (int(value) for value in row[:6])
    hours = Decimal(row[6]).quantize(Decimal("0.01"))
    met, not_met, not_reported = (int(value) for value in row[7:10])
    return Figures(key, programs, running, teams, teachers, completed, eligible, hours, met, not_met, not_reported)


@dataclass(frozen=True)
class CompetencyCoverage:
    code: str
    kind: str
    name: dict[str, str]
    teacher_hours: Decimal  # element sessions tagged with the competency, times teachers present
    activities: int  # Model lessons, observations and reflections tagged with it


def competency_coverage(db: Session, reach: Reach, filters: Filters) -> list[CompetencyCoverage]:
    """Per OBEC competency (C1–C5, F1–F6): the teacher-hours and activities that the PLC work tagged with it."""
    table = source(db, reach, filters, ProgramStats, DistrictStats)
    sums = _read(
        db,
        select(
            *(func.coalesce(func.sum(getattr(table, f"hours_e{n}")), 0) for n in ELEMENT_NUMBERS),
            func.coalesce(func.sum(table.model_lessons), 0),
            func.coalesce(func.sum(table.observations), 0),
            func.coalesce(func.sum(table.reflections), 0),
        ).where(_where(table, reach, filters)),
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
class AssessedGrowth:
    """Teachers' self-assessed levels on one competency: how many rated themselves and their mean, at the programs'
    start and at their end (aggregates only: no person is named)."""

    code: str
    name: dict[str, str]
    teachers_start: int
    mean_start: Decimal | None  # None when no one rated themselves, or when withheld
    teachers_end: int
    mean_end: Decimal | None
    start_withheld: bool = False  # fewer than GROWTH_MIN_TEACHERS rated themselves: the mean is not shown
    end_withheld: bool = False

    @property
    def change(self) -> Decimal | None:
        return self.mean_end - self.mean_start if self.mean_start is not None and self.mean_end is not None else None


# A mean self-assessed level of fewer teachers than this is withheld from leaders: filtered to a school with one or
# two assessed teachers it would be a person's own rating (the public summary's rule, suppress_small, for figures).
GROWTH_MIN_TEACHERS = 5


def assessed_growth(db: Session, reach: Reach, filters: Filters) -> list[AssessedGrowth]:
    """Per competency any program in reach assessed, in the framework's order: the teachers' own levels, each mean
    withheld while fewer than GROWTH_MIN_TEACHERS teachers rated themselves (their number is still given)."""
    # The district rows are not kept by learning area and grade: filtered by those, the program rows are read.
    keyed = filters.learning_area is None and filters.grade_level is None
    table = source(db, reach, filters, CompetencyStats, DistrictCompetencyStats if keyed else CompetencyStats)
    rows = _read(
        db,
        select(table.competency, table.phase, func.sum(table.teachers), func.sum(table.level_sum))
        .where(_where(table, reach, filters))
        .group_by(table.competency, table.phase),
    ).all()
    found = {
        (code, phase): (int(teachers), (Decimal(int(total)) / int(teachers)).quantize(Decimal("0.01")))
        for code, phase, teachers, total in rows
        if teachers
    }
    growth = []
    for code, competency in competencies().items():
        start, end = found.get((code, Phase.START.value)), found.get((code, Phase.END.value))
        if start or end:
            start_n, end_n = start[0] if start else 0, end[0] if end else 0
            start_withheld, end_withheld = 0 < start_n < GROWTH_MIN_TEACHERS, 0 < end_n < GROWTH_MIN_TEACHERS
            growth.append(
                AssessedGrowth(
                    code,
                    competency.name,
                    start_n,
                    start[1] if start and not start_withheld else None,
                    end_n,
                    end[1] if end and not end_withheld else None,
                    start_withheld,
                    end_withheld,
                )  # fmt: skip
            )
    return growth


@dataclass(frozen=True)
class StudentResults:
    learning_area: str
    grade_level: str
    measure: str  # models/measures.py: AS_PERCENT, AS_COUNT or NOT_STATED; rows of different measures never merge
    cycles: int  # how many cycles the figures rest on
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
    them: the other is then reported as ""), one row per comparable measure: percentages (mean scores turned into
    percentages of their N) apart from counts of pupils, and apart from the cycles whose measure was not stated."""
    return student_results_by(db, reach, filters, [tuple(by)])[tuple(by)]


def student_results_by(
    db: Session, reach: Reach, filters: Filters, groupings: Sequence[tuple[str, ...]]
) -> dict[tuple[str, ...], list[StudentResults]]:
    """student_results for each of `groupings` at once: one statement on PostgreSQL (GROUPING SETS)."""
    wanted = list(dict.fromkeys(groupings))
    table = source(db, reach, filters, ResultStats, DistrictResultStats)
    sums = (
        func.sum(table.cycles),
        func.sum(table.baseline_sum),
        func.sum(table.result_sum),
        func.sum(table.improved),
    )
    where = _where(table, reach, filters)
    raw: dict[tuple[str, ...], list[Sequence[Any]]] = {by: [] for by in wanted}
    if len(wanted) > 1 and db.get_bind().dialect.name == "postgresql":
        names = [name for name in ("learning_area", "grade_level") if any(name in by for by in wanted)]
        columns = [getattr(table, name) for name in names] + [table.measure]
        masks = {sum(1 << (len(names) - i) for i, name in enumerate(names) if name not in by): by for by in wanted}
        which = func.grouping(*columns)
        sets = (tuple_(*(getattr(table, name) for name in by), table.measure) for by in wanted)
        statement = select(which, *columns, *sums).where(where).group_by(func.grouping_sets(*sets))
        for row in _read(db, statement.order_by(which, *columns)):
            by = masks[int(row[0])]
            raw[by].append([*(row[1 + names.index(name)] for name in by), *row[1 + len(names) :]])
    else:
        for by in wanted:
            keys = [getattr(table, name) for name in by] + [table.measure]
            raw[by] = list(_read(db, select(*keys, *sums).where(where).group_by(*keys).order_by(*keys)))
    return {by: _student_results(by, rows) for by, rows in raw.items()}


def _student_results(by: tuple[str, ...], rows: list[Sequence[Any]]) -> list[StudentResults]:
    found = []
    for row in rows:
        named = dict(zip(by, row[: len(by)], strict=True))
        measure = str(row[len(by)])
        cycles, baseline, result, improved = row[len(by) + 1 :]
        n = int(cycles)
        found.append(
            StudentResults(
                named.get("learning_area", ""),
                named.get("grade_level", ""),
                measure,
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


def filter_options(db: Session, reach: Reach, district_id: int | None = None, wide: bool = False) -> FilterOptions:
    """What the filters offer. A leader of several districts (`wide`, no district chosen) is offered no network or
    school (thousands of them nationally) until they choose a district; then that district's."""
    table = source(db, reach, Filters(), ProgramStats, DistrictStats)
    combinations = _read(
        db, select(table.year, table.learning_area, table.grade_level).where(_where(table, reach, Filters())).distinct()
    ).all()
    years = sorted({row[0] for row in combinations}, reverse=True)
    areas = {row[1] for row in combinations if row[1]}
    grades = {row[2] for row in combinations if row[2]}
    network_query = select(Network.id, Network.name).order_by(Network.code)
    school_query = select(School.id, School.name, School.network_id).order_by(School.code)
    if wide:
        network_query, school_query = network_query.where(false()), school_query.where(false())
    elif district_id is not None:
        network_query = network_query.where(Network.district_id == district_id)
        school_query = school_query.where(School.district_id == district_id)
    if len(reach.led_district_ids) > 1 or reach.policy_level:
        # A policy leader leads whole districts: the district condition says it, without thousands of ids.
        network_query = network_query.where(Network.district_id.in_(sorted(reach.led_district_ids)))
        school_query = school_query.where(School.district_id.in_(sorted(reach.led_district_ids)))
    else:
        network_query = network_query.where(Network.id.in_(sorted(reach.network_ids)))
        school_query = school_query.where(School.id.in_(sorted(reach.school_ids)))
    networks = db.execute(network_query).all()
    schools = db.execute(school_query).all()
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


def names(db: Session, model: type[Network] | type[School], ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row_id: name for row_id, name in db.execute(select(model.id, model.name).where(model.id.in_(wanted)))}


def rolled_up(rows: list[Figures], group_of: dict[Any, Any]) -> list[Figures]:
    """Rows (keyed by district) added up by the group each key belongs to (a province); keys without one are
    grouped under None."""
    sums: dict[Any, list[Any]] = {}
    for row in rows:
        key = group_of.get(row.key)
        values = [getattr(row, f.name) for f in fields(Figures)][1:]
        if key not in sums:
            sums[key] = values
        else:
            sums[key] = [a + b for a, b in zip(sums[key], values, strict=True)]
    return [Figures(key, *values) for key, values in sums.items()]
