"""Reading test results beside PLC work (issue 17): where a school (or a district) sits against its district and
the nation per test, grade, subject and year; the subjects and grades furthest below the nation; and, beside each,
the PLC cycles that targeted that learning area and grade, with their baseline and result (in percentages, the only
measure comparable with a test's mean: models/measures.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.dashboard_stats import ResultStats
from models.district import Reach
from models.exam_results import DISTRICT, NATION, SCHOOL, ExamResult, subjects
from models.measures import AS_PERCENT


@dataclass(frozen=True)
class Cycles:
    """The PLC cycles that targeted a learning area and grade (percentages), and how many they are."""

    cycles: int
    baseline: Decimal
    result: Decimal


@dataclass(frozen=True)
class Comparison:
    test: str
    grade_level: str
    subject: str
    year: int
    mean: Decimal | None  # the school's (or, on the district view, the district's)
    district: Decimal | None
    nation: Decimal | None
    schools: int  # how many schools' results the district figure rests on (the district view)

    @property
    def gap(self) -> Decimal | None:
        """The mean minus the nation's: below the nation is negative."""
        if self.mean is None or self.nation is None:
            return None
        return self.mean - self.nation

    @property
    def area(self) -> str:
        return subjects()[self.subject].area if self.subject in subjects() else ""


def compare(db: Session, district_id: int, school_id: int | None = None) -> list[Comparison]:
    """Per test, grade, subject and year: the school's mean (or the district's, when school_id is None), the
    district's (as published, else the mean of its schools') and the nation's; newest year first. A few hundred
    rows are read, whatever the number of schools: the schools' means are averaged by the database."""
    key_columns = (ExamResult.test, ExamResult.grade_level, ExamResult.subject, ExamResult.year)
    published: dict[tuple[str, str, str, int], dict[str, Decimal]] = defaultdict(dict)
    for level, test, grade, subject, year, value in db.execute(
        select(ExamResult.level, *key_columns, ExamResult.mean).where(
            ExamResult.district_id == district_id, ExamResult.level.in_((DISTRICT, NATION))
        )
    ):
        published[(test, grade, subject, year)][level] = Decimal(value)
    averaged: dict[tuple[str, str, str, int], tuple[Decimal, int]] = {}
    for test, grade, subject, year, value, count in db.execute(
        select(*key_columns, func.avg(ExamResult.mean), func.count())
        .where(ExamResult.district_id == district_id, ExamResult.level == SCHOOL)
        .group_by(*key_columns)
    ):
        averaged[(test, grade, subject, year)] = (Decimal(value).quantize(Decimal("0.01")), int(count))
    own: dict[tuple[str, str, str, int], Decimal] = {}
    if school_id is not None:
        for test, grade, subject, year, value in db.execute(
            select(*key_columns, ExamResult.mean).where(ExamResult.school_id == school_id, ExamResult.level == SCHOOL)
        ):
            own[(test, grade, subject, year)] = Decimal(value)
        keys = set(own)
    else:
        keys = set(averaged) | {key for key, levels in published.items() if DISTRICT in levels}
    found = []
    for key in keys:
        mean_of_schools, schools = averaged.get(key, (None, 0))
        district = published[key].get(DISTRICT, mean_of_schools)
        mean = own.get(key) if school_id is not None else district
        found.append(Comparison(*key, mean, district, published[key].get(NATION), schools))
    found.sort(key=lambda c: (-c.year, c.test, c.grade_level, c.subject))
    return found


def furthest_below(comparisons: list[Comparison], most: int = 5) -> list[Comparison]:
    """The newest year of every test, grade and subject, the furthest below the nation first (only those below)."""
    newest: dict[tuple[str, str, str], Comparison] = {}
    for c in comparisons:
        key = (c.test, c.grade_level, c.subject)
        if c.gap is not None and (key not in newest or c.year > newest[key].year):
            newest[key] = c
    below = [c for c in newest.values() if c.gap is not None and c.gap < 0]
    return sorted(below, key=lambda c: c.gap or Decimal(0))[:most]


def cycles_targeting(
    db: Session, reach: Reach, pairs: set[tuple[str, str]], district_id: int, school_id: int | None = None
) -> dict[tuple[str, str], Cycles]:
    """For each (learning area, grade): the leader's visible cycles in the district shown (at the school, when
    given) that targeted it, measured in percentages, with the mean baseline and result."""
    if not pairs or reach.empty:
        return {}
    visible = or_(
        ResultStats.district_id.in_(sorted(reach.led_district_ids)),
        ResultStats.network_id.in_(sorted(reach.led_network_ids)),
        ResultStats.school_id.in_(sorted(reach.led_school_ids)),
    )
    query = (
        select(
            ResultStats.learning_area,
            ResultStats.grade_level,
            func.sum(ResultStats.cycles),
            func.sum(ResultStats.baseline_sum),
            func.sum(ResultStats.result_sum),
        )
        .where(visible, ResultStats.district_id == district_id, ResultStats.measure == AS_PERCENT)
        .where(ResultStats.learning_area.in_(sorted({a for a, _ in pairs})))
        .where(ResultStats.grade_level.in_(sorted({g for _, g in pairs})))
        .group_by(ResultStats.learning_area, ResultStats.grade_level)
    )
    if school_id is not None:
        query = query.where(ResultStats.school_id == school_id)
    found = {}
    for area, grade, cycles, baseline, result in db.execute(query):
        n = int(cycles)
        if (area, grade) in pairs and n:
            found[(area, grade)] = Cycles(
                n, (Decimal(baseline) / n).quantize(Decimal("0.1")), (Decimal(result) / n).quantize(Decimal("0.1"))
            )
    return found


def schools_furthest_below(db: Session, district_id: int, most: int = 10) -> list[tuple[int, Comparison]]:
    """The district's schools furthest below the nation: each school's lowest gap in the district's newest year of
    results (one read of that year's results)."""
    nation: dict[tuple[str, str, str, int], Decimal] = {}
    for test, grade, subject, year, value in db.execute(
        select(ExamResult.test, ExamResult.grade_level, ExamResult.subject, ExamResult.year, ExamResult.mean).where(
            ExamResult.district_id == district_id, ExamResult.level == NATION
        )
    ):
        nation[(test, grade, subject, year)] = Decimal(value)
    newest: dict[tuple[int, str, str, str], Comparison] = {}
    latest = db.scalar(
        select(func.max(ExamResult.year)).where(ExamResult.district_id == district_id, ExamResult.level == SCHOOL)
    )
    if latest is None:
        return []
    for school_id, test, grade, subject, year, value in db.execute(
        select(
            ExamResult.school_id,
            ExamResult.test,
            ExamResult.grade_level,
            ExamResult.subject,
            ExamResult.year,
            ExamResult.mean,
        ).where(ExamResult.district_id == district_id, ExamResult.level == SCHOOL, ExamResult.year == latest)
    ):
        if school_id is None:
            continue
        key = (int(school_id), test, grade, subject)
        if key not in newest or year > newest[key].year:
            newest[key] = Comparison(
                test, grade, subject, year, Decimal(value), None, nation.get((test, grade, subject, year)), 1
            )
    lowest: dict[int, Comparison] = {}
    for (school_id, *_rest), c in newest.items():
        if c.gap is not None and c.gap < 0 and (school_id not in lowest or c.gap < (lowest[school_id].gap or 0)):
            lowest[school_id] = c
    return sorted(lowest.items(), key=lambda pair: pair[1].gap or Decimal(0))[:most]
