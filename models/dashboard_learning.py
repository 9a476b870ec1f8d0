"""What the PLC work of the programs a leader sees covered and what it did for pupils: the hours and activities
linked to each competency, the teachers' own assessed growth, and the student results the cycles targeted (by learning
area, grade and comparable measure), over the precomputed rows of models/dashboard_stats.py and, for a leader of whole
districts, the district rows that add them up (models/dashboard_rollup.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.assessments import Phase
from models.catalog import activity_kinds, competencies, elements
from models.cycles import ELEMENT_NUMBERS
from models.dashboard import Filters, _read, _where, grade_sort_key, source
from models.dashboard_rollup import DistrictCompetencyStats, DistrictResultStats, DistrictStats
from models.dashboard_stats import CompetencyStats, ProgramStats, ResultStats
from models.district import Reach


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
        ).where(_where(db, table, reach, filters)),
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
        .where(_where(db, table, reach, filters))
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
    """student_results for each of `groupings` at once, in one statement: the finest grouping is read (by the learning
    areas and grades any of them names, and the measure: a few hundred rows at the national size) and each grouping
    summed from it here (PostgreSQL's GROUPING SETS would read the nation's 24,000 district rows once per grouping)."""
    wanted = list(dict.fromkeys(groupings))
    table = source(db, reach, filters, ResultStats, DistrictResultStats)
    names = tuple(name for name in ("learning_area", "grade_level") if any(name in by for by in wanted))
    keys = [getattr(table, name) for name in names] + [table.measure]
    sums = (func.sum(table.cycles), func.sum(table.baseline_sum), func.sum(table.result_sum), func.sum(table.improved))
    statement = select(*keys, *sums).where(_where(db, table, reach, filters)).group_by(*keys).order_by(*keys)
    finest = [tuple(row) for row in _read(db, statement)]
    found = {}
    for by in wanted:
        summed: dict[tuple[Any, ...], list[Any]] = {}
        for row in finest:
            key = (*(row[names.index(name)] for name in by), row[len(names)])
            values = row[len(names) + 1 :]
            if key in summed:
                summed[key] = [a + b for a, b in zip(summed[key], values, strict=True)]
            else:
                summed[key] = list(values)
        ordered = sorted(summed.items(), key=lambda item: _in_order(item[0]))
        rows: list[Sequence[Any]] = [[*key, *values] for key, values in ordered]
        found[by] = _student_results(by, rows)
    return found


def _in_order(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    """Keys ascending, as the database orders them (learning areas and grades are never NULL: a missing one would go
    last, as PostgreSQL puts it)."""
    return tuple((value is None, value if value is not None else "") for value in key)


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
