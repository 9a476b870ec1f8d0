"""What a summary above one district withholds so that no subtraction reveals a district's withheld figure
(models/public_summary.withheld_below, worked out in SQL) equals what the rule gives when each district's own summary
is worked out row by row with suppress_small, on both databases, over districts whose small groups cover every case:
none, exactly one (the next smallest is withheld with it), several, all."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.dashboard import Figures, Filters, figures_grouped
from models.database import Database
from models.district import District
from models.policy import ProvinceDistrict, add_province, assign_district
from models.public_summary import (
    PUBLIC_MIN_TEACHERS,
    TOTAL,
    public_figures,
    public_reach,
    public_reach_of,
    suppress_small,
    withheld_below,
)
from models.synthetic import Size, seed_district
from tests.factories import platform_of

DIMENSIONS = ("learning_area", "grade_level", "year")
# Districts of very different sizes: the smallest has only small groups, the largest few or none.
SIZES = [
    Size(f"withheld-{n}", networks=1, schools=2, teachers=teachers, teams=max(1, teachers // 6), years=(2025, 2026))
    for n, teachers in enumerate((8, 14, 18, 24, 30, 40, 50, 60, 90))
]


def reference(rows: list[Figures], dimension: str) -> set[Any]:
    """The rule, district by district: the keys that exactly one district's own summary withholds."""
    withheld: Counter[Any] = Counter()
    if dimension == TOTAL:
        withheld[None] = sum(1 for row in rows if row.teachers < PUBLIC_MIN_TEACHERS)
    else:
        by_district: dict[int, list[Figures]] = defaultdict(list)
        for row in rows:
            by_district[row.key[0]].append(row)
        for found in by_district.values():
            shown, _count = suppress_small(found)
            shown_keys = {r.key for r in shown}
            withheld.update(r.key[1] for r in found if r.key not in shown_keys)
    return {key for key, count in withheld.items() if count == 1}


def test_what_a_summary_above_districts_withholds_is_the_rule_applied_to_each_districts_own(
    migrated_database: Database,
) -> None:
    with migrated_database.transaction() as db:
        platform = platform_of(db, "withheld")
        for n, size in enumerate(SIZES):
            seed_district(db, platform, size, today=date(2026, 11, 20), rng_seed=40 + n)
    with Session(migrated_database.engine) as db:
        districts = list(db.scalars(select(District).where(District.platform_id == platform.id)))
        for district in districts:
            district.public_summary = True
        reach = public_reach_of(districts)
        found = withheld_below(db, reach, [*DIMENSIONS, TOTAL])
        by = ["district", *(f"district+{d}" for d in DIMENSIONS)]
        grouped = figures_grouped(db, reach, Filters(), by)
        expected = {d: reference(grouped[f"district+{d}"], d) for d in DIMENSIONS}
        expected[TOTAL] = reference(grouped["district"], TOTAL)
        assert found == expected
        # The cases the rule distinguishes occur here, so a wrong reading of any of them fails.
        assert any(found[d] for d in DIMENSIONS), "no key is withheld by exactly one district: the test cannot fail"
        exactly_one = [
            (d, x.id)
            for d in DIMENSIONS
            for x in districts
            if sum(1 for r in grouped[f"district+{d}"] if r.key[0] == x.id and r.teachers < PUBLIC_MIN_TEACHERS) == 1
        ]
        assert exactly_one, "no district has exactly one small group: the next-smallest rule is not exercised"
        # One district's own summary withholds nothing above it; the public tables apply what is found.
        assert withheld_below(db, public_reach(districts[0]), DIMENSIONS) == {d: set() for d in DIMENSIONS}
        tables, _total = public_figures(db, reach, list(DIMENSIONS))
        for d in DIMENSIONS:
            assert not {row.key for row in tables[d][0]} & expected[d]
        db.rollback()


def test_above_provinces_what_exactly_one_provinces_own_summary_withholds_is_withheld_too(
    migrated_database: Database,
) -> None:
    """The nation's summary withholds, beside what exactly one district withholds, what exactly one province's own
    summary withholds; the provinces' pages are worked out from their districts' rows, and must be the very pages
    the provinces publish."""
    with migrated_database.transaction() as db:
        platform = platform_of(db, "withheld-provinces")
        for n, size in enumerate(SIZES):
            seed_district(db, platform, size, today=date(2026, 11, 20), rng_seed=60 + n)
        districts = list(db.scalars(select(District).where(District.platform_id == platform.id).order_by(District.id)))
        provinces = [add_province(db, platform, f"P{n}", f"จังหวัดสังเคราะห์ {n}") for n in range(3)]
        for n, district in enumerate(districts):
            district.public_summary = True
            assign_district(db, provinces[n % 3], district)
    with Session(migrated_database.engine) as db:
        districts = list(db.scalars(select(District).where(District.platform_id == platform.id)))
        nation = public_reach_of(districts)
        by = ["district", *(f"district+{d}" for d in DIMENSIONS)]
        grouped = figures_grouped(db, nation, Filters(), by)
        expected = {d: reference(grouped[f"district+{d}"], d) for d in DIMENSIONS}
        expected[TOTAL] = reference(grouped["district"], TOTAL)
        pages: dict[str, Counter[Any]] = defaultdict(Counter)
        for province in provinces:
            reach = public_reach_of(d for d in districts if province_of(db, d.id) == province.id)
            tables, total = public_figures(db, reach, list(DIMENSIONS))
            every = figures_grouped(db, reach, Filters(), list(DIMENSIONS))
            for d in DIMENSIONS:
                shown = {row.key for row in tables[d][0]}
                pages[d].update(row.key for row in every[d] if row.key not in shown)
            pages[TOTAL].update([None] if total is None else [])
        for d in [*DIMENSIONS, TOTAL]:
            expected[d] |= {key for key, n in pages[d].items() if n == 1}
        assert withheld_below(db, nation, [*DIMENSIONS, TOTAL]) == expected
        assert any(n == 1 for d in DIMENSIONS for n in pages[d].values()), "no key withheld by one province alone"


def province_of(db: Session, district_id: int) -> int | None:
    return db.scalar(select(ProvinceDistrict.province_id).where(ProvinceDistrict.district_id == district_id))
