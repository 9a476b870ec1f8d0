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
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from models import dashboard_rollup as rollup
from models.dashboard_rollup import DistrictCompetencyStats, DistrictResultStats, DistrictStats
from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats
from models.database import one_of
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
        select(func.max(DistrictStats.refreshed_at)).where(one_of(db, DistrictStats.district_id, set(district_ids)))
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


def _visible(db: Session, table: Table, reach: Reach) -> ColumnElement[bool]:
    """What the leader may see, written so that an empty reach matches nothing."""
    parts: list[ColumnElement[bool]] = []
    if reach.led_district_ids:
        parts.append(one_of(db, table.district_id, reach.led_district_ids))
    if reach.led_network_ids:
        parts.append(one_of(db, table.network_id, reach.led_network_ids))
    if reach.led_school_ids:
        parts.append(one_of(db, table.school_id, reach.led_school_ids))
    return or_(*parts) if parts else false()


def _where(db: Session, table: Table, reach: Reach, filters: Filters) -> ColumnElement[bool]:
    conditions = [_visible(db, table, reach)]
    if (counted := _COUNTED.get(table)) is not None:  # a district row whose programs all left it
        conditions.append(counted > 0)
    if filters.year is not None:
        conditions.append(table.year == filters.year)
    if filters.district_id is not None:
        conditions.append(table.district_id == filters.district_id)
    if filters.district_ids is not None:
        conditions.append(one_of(db, table.district_id, filters.district_ids))
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


_SUMMED = ("teams", "teachers", "cycles_completed", "teachers_eligible", "teacher_hours", "goals_met", "goals_not_met",
           "goals_not_reported")  # fmt: skip


def _figure_sums(table: Table) -> tuple[ColumnElement[Any], ...]:
    """A Figures row's values over program rows, or over the district rows that add them up."""
    counts: tuple[ColumnElement[Any], ColumnElement[Any]]
    if table is ProgramStats:
        running = func.sum(case((ProgramStats.state == ProgramState.RUNNING.value, 1), else_=0))
        counts = (func.count(), func.coalesce(running, 0))
    else:
        counts = (func.coalesce(func.sum(table.programs), 0), func.coalesce(func.sum(table.programs_running), 0))
    return (*counts, *(func.coalesce(func.sum(getattr(table, name)), 0) for name in _SUMMED))


_GROUPS = {
    "district": "district_id",
    "network": "network_id",
    "school": "school_id",
    "learning_area": "learning_area",
    "grade_level": "grade_level",
    "year": "year",
}
_BY_DISTRICT = {"district", "learning_area", "grade_level", "year"}  # what the district rows are keyed by
_KEYS = ("learning_area", "grade_level", "year")  # a few values each: groupings by them alone are small


Grouped = dict[str, list[Figures]]


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
    where = _where(db, table, reach, filters)
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
    within each grouping, as _grouped orders them (NULL keys last), and an empty grouping still gives its total row.

    PostgreSQL feeds every row to every grouping set of a statement: the national view's five groupings read the
    nation's 25,000 district rows five times over. The groupings by learning area, grade and year alone (and the
    total) are few rows, so they are summed from one grouping by all of those keys instead (a few hundred rows), in
    the same statement: each row is read twice, whatever the number of such groupings."""
    names = [name for name in _GROUPS if any(name in _parts(d) for d in dimensions)]
    columns = [getattr(table, _GROUPS[name]) for name in names]

    def mask(parts: Sequence[str], among: Sequence[str]) -> int:
        return sum(1 << (len(among) - 1 - i) for i, name in enumerate(among) if name not in parts)

    def sets(chosen: Sequence[Sequence[str]], of: Any) -> Any:
        return func.grouping_sets(*(tuple_(*(of(name) for name in parts)) for parts in chosen))

    by_keys = [d for d in dimensions if set(_parts(d)) <= set(_KEYS)]
    base = [name for name in names if any(name in _parts(d) for d in by_keys)]
    sums = [value.label(f"s{n}") for n, value in enumerate(_figure_sums(table))]
    labelled = [column.label(name) for column, name in zip(columns, names, strict=True)]
    if len(by_keys) < 2:
        statement: Any = (
            select(func.grouping(*columns).label("w"), *labelled, *sums)
            .where(where)
            .group_by(sets([_parts(d) for d in dimensions], lambda name: getattr(table, _GROUPS[name])))
            .subquery()
        )
    else:
        others = [_parts(d) for d in dimensions if d not in by_keys]
        grouped = (
            select(func.grouping(*columns).label("w"), *labelled, *sums)
            .where(where)
            .group_by(sets([*others, base], lambda name: getattr(table, _GROUPS[name])))
            .cte("grouped")
        )
        rows = grouped.c
        keyed = rows.w == mask(base, names)
        # Rows summed from the base grouping say which grouping of the base keys they are, past every mask of names.
        summed = (
            select(
                (literal(_SUMMED_MASK) + func.grouping(*(rows[name] for name in base))).label("w"),
                *(
                    rows[name] if name in base else cast(null(), column.type).label(name)
                    for name, column in zip(names, columns, strict=True)
                ),
                *(func.coalesce(func.sum(rows[f"s{n}"]), 0).label(f"s{n}") for n in range(len(sums))),
            )
            .where(keyed)
            .group_by(sets([_parts(d) for d in by_keys], lambda name: rows[name]))
        )
        passed = select(rows.w, *(rows[name] for name in names), *(rows[f"s{n}"] for n in range(len(sums))))
        statement = union_all(passed.where(~keyed), summed).subquery()
    found: dict[str, list[Figures]] = {d: [] for d in dimensions}
    masks = {mask(_parts(d), names): d for d in dimensions if d not in by_keys or len(by_keys) < 2}
    masks.update({_SUMMED_MASK + mask(_parts(d), base): d for d in by_keys if len(by_keys) >= 2})
    ordered = select(statement).order_by(statement.c.w, *(statement.c[name] for name in names))
    for row in _read(db, ordered):
        dimension = masks[int(row[0])]
        keys = [row[1 + names.index(part)] for part in _parts(dimension)]
        key = None if not keys else keys[0] if len(keys) == 1 else tuple(keys)
        found[dimension].append(_figures(key, row[1 + len(names) :]))
    return found


# Above every GROUPING() mask of _GROUPS' six columns: the rows _grouping_sets sums from its base grouping.
_SUMMED_MASK = 1 << len(_GROUPS)


def _figures(key: Any, row: Sequence[Any]) -> Figures:
    programs, running, teams, teachers, completed, eligible = (int(value) for value in row[:6])
    hours = Decimal(row[6]).quantize(Decimal("0.01"))
    met, not_met, not_reported = (int(value) for value in row[7:10])
    return Figures(key, programs, running, teams, teachers, completed, eligible, hours, met, not_met, not_reported)


@dataclass(frozen=True)
class FilterOptions:
    years: list[int]
    networks: list[tuple[int, str]]
    schools: list[tuple[int, str, int]]  # id, name, network id
    learning_areas: list[str]
    grade_levels: list[str]


def filter_options(
    db: Session, reach: Reach, district_id: int | None = None, wide: bool = False, present: Grouped | None = None
) -> FilterOptions:
    """What the filters offer. A leader of several districts (`wide`, no district chosen) is offered no network or
    school (thousands of them nationally) until they choose a district; then that district's. `present`: the page's
    figures by year, learning area and grade when no filter is chosen (figures_grouped), which name the very years,
    areas and grades there are, so they are not read a second time."""
    if present is not None:
        years = sorted((row.key for row in present["year"]), reverse=True)
        areas = {row.key for row in present["learning_area"] if row.key}
        grades = {row.key for row in present["grade_level"] if row.key}
    else:
        table = source(db, reach, Filters(), ProgramStats, DistrictStats)
        where = _where(db, table, reach, Filters())
        combinations = _read(db, select(table.year, table.learning_area, table.grade_level).where(where).distinct())
        found = combinations.all()
        years = sorted({row[0] for row in found}, reverse=True)
        areas = {row[1] for row in found if row[1]}
        grades = {row[2] for row in found if row[2]}
    network_query = select(Network.id, Network.name).order_by(Network.code)
    school_query = select(School.id, School.name, School.network_id).order_by(School.code)
    if wide:
        network_query, school_query = network_query.where(false()), school_query.where(false())
    elif district_id is not None:
        network_query = network_query.where(Network.district_id == district_id)
        school_query = school_query.where(School.district_id == district_id)
    if len(reach.led_district_ids) > 1 or reach.policy_level:
        # A policy leader leads whole districts: the district condition says it, without thousands of ids.
        network_query = network_query.where(one_of(db, Network.district_id, reach.led_district_ids))
        school_query = school_query.where(one_of(db, School.district_id, reach.led_district_ids))
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
