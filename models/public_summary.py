"""Public summaries above one district (a province, the nation) withhold what a district's own summary withholds
whenever subtraction would reveal it: a figure of one key (a learning area, a grade, a year, the total, a learning
area and grade's student results) summed over several districts is withheld when exactly one of those districts'
own public summaries withholds its figure for that key, since the higher-level figure minus the other districts'
published figures would be that district's withheld one. Two or more withheld districts' figures only ever show as
their sum."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.dashboard import (
    _FIGURES,
    PUBLIC_MIN_CYCLES,
    PUBLIC_MIN_TEACHERS,
    Figures,
    Filters,
    StudentResults,
    _figures,
    _where,
    figures_by,
    student_results,
    suppress_small,
)
from models.dashboard_stats import ProgramStats, ResultStats
from models.district import Reach
from models.measures import AS_PERCENT

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
    where = _where(ProgramStats, reach, Filters())
    withheld: Counter[Any] = Counter()
    if dimension == TOTAL:
        for _district, *row in db.execute(
            select(ProgramStats.district_id, *_FIGURES).where(where).group_by(ProgramStats.district_id)
        ):
            if _figures(None, row).teachers < PUBLIC_MIN_TEACHERS:
                withheld[None] += 1
    else:
        column = _COLUMNS[dimension]
        by_district: dict[int, list[Figures]] = defaultdict(list)
        for district_id, key, *row in db.execute(
            select(ProgramStats.district_id, column, *_FIGURES).where(where).group_by(ProgramStats.district_id, column)
        ):
            by_district[district_id].append(_figures(key, row))
        for rows in by_district.values():
            shown, _count = suppress_small(rows)  # as the district's own summary withholds them
            shown_keys = {r.key for r in shown}
            withheld.update(r.key for r in rows if r.key not in shown_keys)
    return {key for key, count in withheld.items() if count == 1}


def results_withheld_below(db: Session, reach: Reach) -> set[tuple[str, str]]:
    """The (learning area, grade) student results, in percentages, that exactly one district of the reach withholds
    on its own public summary (fewer than PUBLIC_MIN_CYCLES cycles)."""
    if len(reach.led_district_ids) < 2:
        return set()
    withheld: Counter[tuple[str, str]] = Counter()
    for _district, area, grade, cycles in db.execute(
        select(
            ResultStats.district_id, ResultStats.learning_area, ResultStats.grade_level, func.sum(ResultStats.cycles)
        )
        .where(_where(ResultStats, reach, Filters()), ResultStats.measure == AS_PERCENT)
        .group_by(ResultStats.district_id, ResultStats.learning_area, ResultStats.grade_level)
    ):
        if 0 < int(cycles) < PUBLIC_MIN_CYCLES:
            withheld[(area, grade)] += 1
    return {key for key, count in withheld.items() if count == 1}


def public_table(db: Session, reach: Reach, dimension: str) -> tuple[list[Figures], int]:
    """A public summary's table by `dimension`: the rows shown and how many were withheld."""
    rows = figures_by(db, reach, Filters(), dimension)
    return suppress_small(rows, withheld_below(db, reach, dimension) if dimension in _COLUMNS else ())


def public_total(db: Session, reach: Reach) -> Figures | None:
    """A public summary's total, or None when withheld."""
    total = figures_by(db, reach, Filters(), TOTAL)[0]
    return total if total.teachers >= PUBLIC_MIN_TEACHERS and not withheld_below(db, reach, TOTAL) else None


def public_results(db: Session, reach: Reach) -> list[StudentResults]:
    """A public summary's student results: percentages of enough cycles that no subtraction reveals."""
    below = results_withheld_below(db, reach)
    return [
        r
        for r in student_results(db, reach, Filters())
        if r.cycles >= PUBLIC_MIN_CYCLES and r.measure == AS_PERCENT and (r.learning_area, r.grade_level) not in below
    ]
