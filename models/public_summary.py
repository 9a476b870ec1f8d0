"""Public summaries above one district (a province, the nation) withhold what a district's own summary withholds
whenever subtraction would reveal it: a figure of one key (a learning area, a grade, a year, the total, a learning
area and grade's student results) summed over several districts is withheld when exactly one of those districts'
own public summaries withholds its figure for that key, since the higher-level figure minus the other districts'
published figures would be that district's withheld one. Two or more withheld districts' figures only ever show as
their sum."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.dashboard import Figures, Filters, StudentResults, _read, _where, figures_grouped, source, student_results
from models.dashboard_rollup import DistrictResultStats
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


def public_reach_of(districts: Iterable[District]) -> Reach:
    """The public summary of several districts (a province, the nation): those that published theirs."""
    ids = frozenset(d.id for d in districts if d.public_summary)
    return Reach(led_district_ids=ids, district_ids=ids)


TOTAL = "total"
_COLUMNS = {
    "learning_area": ProgramStats.learning_area,
    "grade_level": ProgramStats.grade_level,
    "year": ProgramStats.year,
}


def withheld_below(db: Session, reach: Reach, dimension: str) -> set[Any]:
    """The keys of `dimension` (a column of _COLUMNS, or TOTAL: the key None) that exactly one district of the reach
    withholds on its own public summary; empty for a single district's summary."""
    if len(reach.led_district_ids) < 2:
        return set()
    by = "district" if dimension == TOTAL else f"district+{dimension}"
    return _withheld_below(dimension, figures_grouped(db, reach, Filters(), [by])[by])


def _withheld_below(dimension: str, rows: list[Figures]) -> set[Any]:
    """withheld_below from the figures by district ("district", for TOTAL) or by district and `dimension`."""
    withheld: Counter[Any] = Counter()
    if dimension == TOTAL:
        withheld[None] = sum(1 for row in rows if row.teachers < PUBLIC_MIN_TEACHERS)
    else:
        by_district: dict[int, list[Figures]] = defaultdict(list)
        for row in rows:  # keyed (district, key): within one district the pair is as unique as the key
            by_district[row.key[0]].append(row)
        for found in by_district.values():
            shown, _count = suppress_small(found)  # as the district's own summary withholds them
            shown_keys = {r.key for r in shown}
            withheld.update(r.key[1] for r in found if r.key not in shown_keys)
    return {key for key, count in withheld.items() if count == 1}


def results_withheld_below(db: Session, reach: Reach) -> set[tuple[str, str]]:
    """The (learning area, grade) student results, in percentages, that exactly one district of the reach withholds
    on its own public summary (fewer than PUBLIC_MIN_CYCLES cycles)."""
    if len(reach.led_district_ids) < 2:
        return set()
    withheld: Counter[tuple[str, str]] = Counter()
    table = source(db, reach, Filters(), ResultStats, DistrictResultStats)
    for _district, area, grade, cycles in _read(
        db,
        select(table.district_id, table.learning_area, table.grade_level, func.sum(table.cycles))
        .where(_where(table, reach, Filters()), table.measure == AS_PERCENT)
        .group_by(table.district_id, table.learning_area, table.grade_level),
    ):
        if 0 < int(cycles) < PUBLIC_MIN_CYCLES:
            withheld[(area, grade)] += 1
    return {key for key, count in withheld.items() if count == 1}


def public_table(db: Session, reach: Reach, dimension: str) -> tuple[list[Figures], int]:
    """A public summary's table by `dimension`: the rows shown and how many were withheld."""
    return public_figures(db, reach, [dimension])[0][dimension]


def public_total(db: Session, reach: Reach) -> Figures | None:
    """A public summary's total, or None when withheld."""
    return public_figures(db, reach, [])[1]


def public_figures(
    db: Session, reach: Reach, dimensions: list[str]
) -> tuple[dict[str, tuple[list[Figures], int]], Figures | None]:
    """public_table for each of `dimensions`, and public_total, from one grouped read of the figures (by each
    dimension, and, above one district, by district and each dimension: what the districts' own summaries withhold)."""
    several = len(reach.led_district_ids) >= 2
    below = [d for d in dimensions if d in _COLUMNS] if several else []
    wanted = [*dimensions, TOTAL, *(["district"] if several else []), *(f"district+{d}" for d in below)]
    grouped = figures_grouped(db, reach, Filters(), wanted)
    tables = {
        d: suppress_small(grouped[d], _withheld_below(d, grouped[f"district+{d}"]) if d in below else ())
        for d in dimensions
    }
    total = grouped[TOTAL][0]
    shown = total.teachers >= PUBLIC_MIN_TEACHERS and not (several and _withheld_below(TOTAL, grouped["district"]))
    return tables, total if shown else None


def public_results(db: Session, reach: Reach) -> list[StudentResults]:
    """A public summary's student results: percentages of enough cycles that no subtraction reveals."""
    below = results_withheld_below(db, reach)
    return [
        r
        for r in student_results(db, reach, Filters())
        if r.cycles >= PUBLIC_MIN_CYCLES and r.measure == AS_PERCENT and (r.learning_area, r.grade_level) not in below
    ]
