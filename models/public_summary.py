"""Public summaries above one district (a province, the nation) withhold what a district's own summary withholds
whenever subtraction would reveal it: a figure of one key (a learning area, a grade, a year, the total, a learning
area and grade's student results) summed over several districts is withheld when exactly one of those districts'
own public summaries withholds its figure for that key, since the higher-level figure minus the other districts'
published figures would be that district's withheld one. Two or more withheld districts' figures only ever show as
their sum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from models.dashboard import Figures, Filters, _read, _where, figures_grouped, source
from models.dashboard_learning import StudentResults, student_results
from models.dashboard_rollup import DistrictResultStats, DistrictStats
from models.dashboard_stats import ProgramStats, ResultStats
from models.district import District, Reach
from models.measures import AS_PERCENT

# A group with fewer teachers than this is not shown on the public page, so no one can be picked out of it.
PUBLIC_MIN_TEACHERS = 10
# Student results: a learning area and grade needs at least this many cycles (teams' targets) to be shown.
PUBLIC_MIN_CYCLES = 5


def suppress_small(rows: list[Figures], withheld_keys: Iterable[Any] = ()) -> tuple[list[Figures], int]:
    """The rows safe to publish, and how many were withheld: small groups, and the rows whose keys are given (those
    that subtraction across levels would reveal: models/public_summary.py). When only one row would be withheld, the
    next smallest is withheld too, so that the total minus the shown rows does not reveal it."""
    forced = set(withheld_keys)
    small = [row for row in rows if row.teachers < PUBLIC_MIN_TEACHERS or row.key in forced]
    shown = [row for row in rows if row.teachers >= PUBLIC_MIN_TEACHERS and row.key not in forced]
    if len(small) == 1 and shown:
        smallest = min(shown, key=lambda row: row.teachers)
        shown = [row for row in shown if row is not smallest]
        small.append(smallest)
    return shown, len(small)


def public_reach(district: District) -> Reach:
    return Reach(led_district_ids=frozenset({district.id}), district_ids=frozenset({district.id}))


def public_districts(db: Session) -> list[District]:
    return list(db.scalars(select(District).where(District.public_summary.is_(True)).order_by(District.name)))


def public_reach_of(districts: Iterable[Any]) -> Reach:
    """The public summary of several districts (a province, the nation): those that published theirs (districts, or
    rows with their `id` and `public_summary`)."""
    ids = frozenset(d.id for d in districts if d.public_summary)
    return Reach(led_district_ids=ids, district_ids=ids)


TOTAL = "total"
_COLUMNS = {
    "learning_area": ProgramStats.learning_area,
    "grade_level": ProgramStats.grade_level,
    "year": ProgramStats.year,
}


def withheld_below(db: Session, reach: Reach, dimensions: Iterable[str]) -> dict[str, set[Any]]:
    """For each of `dimensions` (a column of _COLUMNS, or TOTAL: the key None), the keys that exactly one district of
    the reach withholds on its own public summary; empty sets for a single district's summary.

    One statement, and only the withheld keys come back (the nation: 4,400 rows of district and key otherwise): per
    district and key the teachers, then, within each district, what suppress_small withholds (fewer than
    PUBLIC_MIN_TEACHERS, and, when exactly one is, the smallest shown group too, the first in key order among equals,
    as the district's own page orders its rows), then the keys withheld by exactly one district."""
    wanted = list(dict.fromkeys(dimensions))
    if len(reach.led_district_ids) < 2 or not wanted:
        return {dimension: set() for dimension in wanted}
    table = source(db, reach, Filters(), ProgramStats, DistrictStats)
    where = _where(db, table, reach, Filters())
    keys = list(_COLUMNS)
    parts = []
    for dimension in wanted:
        columns = [
            (getattr(table, name) if name == dimension else null().cast(_COLUMNS[name].type)).label(name)
            for name in keys
        ]
        grouped = [getattr(table, dimension)] if dimension in _COLUMNS else []
        parts.append(
            select(literal(dimension).label("which"), table.district_id, *columns, func.sum(table.teachers).label("t"))
            .where(where)
            .group_by(table.district_id, *grouped)
        )
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    small = rows.c.t < PUBLIC_MIN_TEACHERS
    per_district = (rows.c.which, rows.c.district_id)
    ranked = select(
        rows,
        func.count().filter(small).over(partition_by=per_district).label("small"),
        func.count().filter(~small).over(partition_by=per_district).label("shown"),
        func.row_number()
        .over(partition_by=per_district, order_by=(case((small, 1), else_=0), rows.c.t, *(rows.c[k] for k in keys)))
        .label("rank"),
    ).subquery()
    withheld = or_(
        ranked.c.t < PUBLIC_MIN_TEACHERS,
        and_(ranked.c.which != TOTAL, ranked.c.small == 1, ranked.c.shown > 0, ranked.c.rank == 1),
    )
    key_columns = [ranked.c[k] for k in keys]
    found: dict[str, set[Any]] = {dimension: set() for dimension in wanted}
    for which, *key in _read(
        db,
        select(ranked.c.which, *key_columns)
        .where(withheld)
        .group_by(ranked.c.which, *key_columns)
        .having(func.count() == 1),
    ):
        found[which].add(None if which == TOTAL else key[keys.index(which)])
    return found


def results_withheld_below(db: Session, reach: Reach) -> set[tuple[str, str]]:
    """The (learning area, grade) student results, in percentages, that exactly one district of the reach withholds
    on its own public summary (fewer than PUBLIC_MIN_CYCLES cycles)."""
    if len(reach.led_district_ids) < 2:
        return set()
    table = source(db, reach, Filters(), ResultStats, DistrictResultStats)
    per_district = (
        select(table.learning_area, table.grade_level, func.sum(table.cycles).label("cycles"))
        .where(_where(db, table, reach, Filters()), table.measure == AS_PERCENT)
        .group_by(table.district_id, table.learning_area, table.grade_level)
        .subquery()
    )
    few = and_(per_district.c.cycles > 0, per_district.c.cycles < PUBLIC_MIN_CYCLES)
    statement = (
        select(per_district.c.learning_area, per_district.c.grade_level)
        .where(few)
        .group_by(per_district.c.learning_area, per_district.c.grade_level)
        .having(func.count() == 1)
    )
    return {(area, grade) for area, grade in _read(db, statement)}


def public_table(db: Session, reach: Reach, dimension: str) -> tuple[list[Figures], int]:
    """A public summary's table by `dimension`: the rows shown and how many were withheld."""
    return public_figures(db, reach, [dimension])[0][dimension]


def public_total(db: Session, reach: Reach) -> Figures | None:
    """A public summary's total, or None when withheld."""
    return public_figures(db, reach, [])[1]


def public_figures(
    db: Session, reach: Reach, dimensions: list[str]
) -> tuple[dict[str, tuple[list[Figures], int]], Figures | None]:
    """public_table for each of `dimensions`, and public_total, from one grouped read of the figures and, above one
    district, one read of what the districts' own summaries withhold (withheld_below)."""
    grouped = figures_grouped(db, reach, Filters(), [*dimensions, TOTAL])
    below = withheld_below(db, reach, [*(d for d in dimensions if d in _COLUMNS), TOTAL])
    tables = {d: suppress_small(grouped[d], below.get(d, ())) for d in dimensions}
    total = grouped[TOTAL][0]
    shown = total.teachers >= PUBLIC_MIN_TEACHERS and None not in below[TOTAL]
    return tables, total if shown else None


def public_results(db: Session, reach: Reach) -> list[StudentResults]:
    """A public summary's student results: percentages of enough cycles that no subtraction reveals."""
    below = results_withheld_below(db, reach)
    return [
        r
        for r in student_results(db, reach, Filters())
        if r.cycles >= PUBLIC_MIN_CYCLES and r.measure == AS_PERCENT and (r.learning_area, r.grade_level) not in below
    ]
