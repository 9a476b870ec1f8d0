"""Public summaries above one district (a province, the nation) withhold what a district's own summary withholds
whenever subtraction would reveal it: a figure of one key (a learning area, a grade, a year, the total, a learning
area and grade's student results) summed over several districts is withheld when exactly one of those districts'
own public summaries withholds its figure for that key, since the higher-level figure minus the other districts'
published figures would be that district's withheld one. Two or more withheld districts' figures only ever show as
their sum."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from models.dashboard import Figures, Filters, _read, _where, figures_grouped, source
from models.dashboard_learning import StudentResults, student_results
from models.dashboard_rollup import DistrictResultStats, DistrictStats
from models.dashboard_stats import ProgramStats, ResultStats
from models.district import District, Reach
from models.measures import AS_PERCENT
from models.policy import ProvinceDistrict

# A group with fewer teachers than this is not shown on the public page, so no one can be picked out of it.
PUBLIC_MIN_TEACHERS = 10
# Student results: a learning area and grade needs at least this many cycles (teams' targets) to be shown.
PUBLIC_MIN_CYCLES = 5


def suppress_small(
    rows: list[Figures], withheld_keys: Iterable[Any] = (), total_withheld: bool = False
) -> tuple[list[Figures], int]:
    """The rows safe to publish, and how many were withheld: small groups, and the rows whose keys are given (those
    that subtraction across levels would reveal: models/public_summary.py). Never exactly one row is withheld, so
    that the total minus the shown rows does not reveal it: the next smallest goes with it. Nor none when the page
    withholds its total, which the rows would add up to: the two smallest are withheld."""
    hidden = withholds([(row.key, row.teachers) for row in rows], set(withheld_keys), total_withheld)
    shown = [row for row in rows if row.key not in hidden]
    return shown, len(rows) - len(shown)


def withholds(rows: Sequence[tuple[Any, int]], forced: set[Any], total_withheld: bool) -> set[Any]:
    """The keys a page's table withholds (suppress_small), from its rows' keys and teachers in the page's order: the
    smallest shown row first, the first in that order among equals."""
    hidden = {key for key, teachers in rows if teachers < PUBLIC_MIN_TEACHERS or key in forced}
    least = 2 if hidden or total_withheld else 0
    shown = sorted(((teachers, n, key) for n, (key, teachers) in enumerate(rows) if key not in hidden))
    for _teachers, _n, key in shown[: max(0, least - len(hidden))]:
        hidden.add(key)
    return hidden


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
    the reach withholds on its own public summary, and, above one province (the nation), those that exactly one
    province's public summary withholds; empty sets for a single district's summary. Otherwise a withheld figure
    would be the sum shown here minus the other districts' (or provinces') published ones.

    Only the withheld keys come back from the database (the nation: 7,000 rows of district and key otherwise): per
    district and key the teachers, then, within each district, what suppress_small withholds (fewer than
    PUBLIC_MIN_TEACHERS, and, when exactly one is, the smallest shown group too, the first in key order among equals,
    as the district's own page orders its rows), then the keys withheld by exactly one district; and the provinces'
    pages worked out from their districts' rows (_province_pages)."""
    wanted = list(dict.fromkeys(dimensions))
    found: dict[str, set[Any]] = {dimension: set() for dimension in wanted}
    if len(reach.led_district_ids) < 2 or not wanted:
        return found
    ranked = _ranked(db, reach, wanted)
    hidden = or_(
        ranked.c.t < PUBLIC_MIN_TEACHERS,
        and_(ranked.c.which != TOTAL, ranked.c.small == 1, ranked.c.shown > 0, ranked.c.rank == 1),
    )
    key_columns = [ranked.c[k] for k in _COLUMNS]
    statement = (
        select(ranked.c.which, *key_columns)
        .where(hidden)
        .group_by(ranked.c.which, *key_columns)
        .having(func.count() == 1)
    )
    for which, *key in _read(db, statement):
        found[which].add(_key(which, key))
    for which, keys in _province_pages(db, ranked, hidden).items():
        found[which] |= keys
    return found


def _key(which: str, values: Sequence[Any]) -> Any:
    return None if which == TOTAL else values[list(_COLUMNS).index(which)]


def _ranked(db: Session, reach: Reach, wanted: list[str]) -> Any:
    """Per grouping (`which`), district and key: the teachers (t), and within the district how many groups are small
    and how many not, and each group's place, the shown smallest first (`rank`)."""
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
    return select(
        rows,
        func.count().filter(small).over(partition_by=per_district).label("small"),
        func.count().filter(~small).over(partition_by=per_district).label("shown"),
        func.row_number()
        .over(partition_by=per_district, order_by=(case((small, 1), else_=0), rows.c.t, *(rows.c[k] for k in keys)))
        .label("rank"),
    ).subquery()


def _province_pages(db: Session, ranked: Any, hidden: ColumnElement[bool]) -> dict[str, set[Any]]:
    """Above one province: the keys that exactly one province's own public summary withholds. Each province's page
    is worked out as public_figures does it, from its districts' rows here (their teachers added up, and how many of
    them withhold each key on their own page), in the order its page reads them."""
    keys = [ranked.c[k] for k in _COLUMNS]
    province = ProvinceDistrict.province_id
    statement = (
        select(province, ranked.c.which, *keys, func.sum(ranked.c.t), func.count(case((hidden, 1))))
        .join(ProvinceDistrict, ProvinceDistrict.district_id == ranked.c.district_id)
        .group_by(province, ranked.c.which, *keys)
        .order_by(province, ranked.c.which, *keys)
    )
    pages: dict[int, dict[str, list[tuple[Any, int, int]]]] = defaultdict(lambda: defaultdict(list))
    for province_id, which, *rest in _read(db, statement):
        *values, teachers, withheld_by = rest
        pages[province_id][which].append((_key(which, values), int(teachers), int(withheld_by)))
    withheld_by_provinces: dict[str, Counter[Any]] = defaultdict(Counter)
    if len(pages) < 2:  # a province's own page: its districts' rule is the whole of it
        return {}
    for tables in pages.values():
        total = tables.get(TOTAL, [])
        total_withheld = any(teachers < PUBLIC_MIN_TEACHERS or by == 1 for _key_, teachers, by in total)
        if total_withheld:
            withheld_by_provinces[TOTAL][None] += 1
        for which, rows in tables.items():
            if which != TOTAL:
                forced = {key for key, _teachers, by in rows if by == 1}
                pairs = [(key, teachers) for key, teachers, _by in rows]
                withheld_by_provinces[which].update(withholds(pairs, forced, total_withheld))
    return {which: {key for key, n in counts.items() if n == 1} for which, counts in withheld_by_provinces.items()}


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
    total = grouped[TOTAL][0]
    shown = total.teachers >= PUBLIC_MIN_TEACHERS and None not in below[TOTAL]
    tables = {d: suppress_small(grouped[d], below.get(d, ()), total_withheld=not shown) for d in dimensions}
    return tables, total if shown else None


def public_results(db: Session, reach: Reach) -> list[StudentResults]:
    """A public summary's student results: percentages of enough cycles that no subtraction reveals."""
    below = results_withheld_below(db, reach)
    return [
        r
        for r in student_results(db, reach, Filters())
        if r.cycles >= PUBLIC_MIN_CYCLES and r.measure == AS_PERCENT and (r.learning_area, r.grade_level) not in below
    ]
