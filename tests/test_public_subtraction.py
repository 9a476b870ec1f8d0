"""What the public summaries together publish must never let a reader work out a figure that one of them withholds:
a withheld total is the sum of any table of the same page that shows every row, and a district's published own
total is on its own page (models/public_summary.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.dashboard_rollup import rebuild
from models.district import Network
from models.policy import add_province, assign_district
from models.public_summary import public_figures, public_reach, public_reach_of
from tests.factories import make_course, platform_of, program_with_figures
from tests.test_policy_level import structure

# Teachers by district and year: D1's total (6) is small, so D1's own page withholds it, and the province's total
# is withheld (exactly one district withholds its total). Every year is withheld by two districts or none, so the
# province's table by year withholds nothing.
TEACHERS = {
    "D1": {2025: 6},
    "D2": {2024: 30, 2025: 5, 2026: 30},
    "D3": {2024: 4, 2025: 40, 2026: 40},
}


def test_a_withheld_total_cannot_be_worked_out_from_a_table_that_shows_every_row(db: Session) -> None:
    platform = platform_of(db, "public-subtraction")
    districts = structure(db, platform, list(TEACHERS))
    course = make_course(db, "public-subtraction-course", teachers=3)
    for code, by_year in TEACHERS.items():
        district = districts[code]
        district.public_summary = True
        network = db.scalar(select(Network.id).where(Network.district_id == district.id))
        for year, n in by_year.items():
            program_with_figures(db, course, district.id, network, year, "คณิตศาสตร์", n)
    db.flush()
    for district in districts.values():
        rebuild(db, district.id)

    own = {code: public_figures(db, public_reach(d), ["year"]) for code, d in districts.items()}
    assert own["D1"][1] is None  # D1 withholds its total: 6 teachers
    tables, total = public_figures(db, public_reach_of(districts.values()), ["year"])
    years, withheld = tables["year"]
    assert total is None  # the province withholds its total too, since D1 alone withholds its own
    if withheld == 0:  # but its years add up to that total, and D2's and D3's own pages publish theirs
        others = [own[code][1] for code in ("D2", "D3")]
        known = sum(row.teachers for row in years) - sum(t.teachers for t in others if t is not None)
        assert known != sum(TEACHERS["D1"].values()), "D1's withheld total worked out by subtraction"


# Teachers by district and learning area. The nation is two provinces: P1 of X and Y, P2 of Z and W. X, Z and W each
# withhold A and B on their own pages, so no key is withheld by exactly one district of the nation, and P2's A and B
# (two districts' each) are large enough to publish.
BY_AREA = {
    "X": {"A": 5, "B": 4, "C": 60},
    "Y": {"A": 30, "B": 30, "C": 60},
    "Z": {"A": 6, "B": 7, "C": 60},
    "W": {"A": 5, "B": 6, "C": 60},
}
PROVINCES = {"P1": ("X", "Y"), "P2": ("Z", "W")}


def test_a_figure_a_district_withholds_cannot_be_worked_out_from_the_nation_minus_the_provinces(db: Session) -> None:
    platform = platform_of(db, "public-nation-subtraction")
    districts = structure(db, platform, list(BY_AREA))
    course = make_course(db, "public-nation-subtraction-course", teachers=3)
    for code, by_area in BY_AREA.items():
        district = districts[code]
        district.public_summary = True
        network = db.scalar(select(Network.id).where(Network.district_id == district.id))
        for area, n in by_area.items():
            program_with_figures(db, course, district.id, network, 2025, area, n)
    for code, members in PROVINCES.items():
        province = add_province(db, platform, code, f"จังหวัดสังเคราะห์ {code}")
        for member in members:
            assign_district(db, province, districts[member])
    db.flush()
    for district in districts.values():
        rebuild(db, district.id)

    def published(codes: tuple[str, ...]) -> dict[str, int]:
        tables, _total = public_figures(db, public_reach_of(districts[c] for c in codes), ["learning_area"])
        return {row.key: row.teachers for row in tables["learning_area"][0]}

    own = {code: published((code,)) for code in BY_AREA}
    assert own["X"] == {"C": 60}  # X withholds A and B
    nation, p2 = published(tuple(BY_AREA)), published(PROVINCES["P2"])
    for area in ("A", "B"):
        if area in nation and area in p2 and area in own["Y"]:
            worked_out = nation[area] - p2[area] - own["Y"][area]
            assert worked_out != BY_AREA["X"][area], f"X's withheld {area} worked out by subtraction"
