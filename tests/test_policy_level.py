"""The policy level above districts (issue 17): province and OBEC leaders see the districts below them through the
same reach as a district leader (nothing else, never another platform's), the dashboard rolls districts up by
province and district, and the public summary exists at every level with the same small-group suppression."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lti_tool.services.dashboard import NotADistrictLeader, refresh_figures
from lti_tool.services.exam_results import NotTheDistrictsLeader, import_district_results
from lti_tool.web.views.dashboard import DISTRICT_ROWS
from models.dashboard_rollup import rebuild
from models.dashboard_stats import ResultStats
from models.district import (
    District,
    Leader,
    Network,
    Reach,
    School,
    find_unit,
    import_structure,
    place_program,
    reach_of,
)
from models.measures import AS_PERCENT
from models.platform import Platform
from models.policy import add_policy_leader, add_province, assign_district
from models.public_summary import public_reach, public_reach_of, public_results, public_table, public_total
from tests.conftest import ToolServer
from tests.factories import make_course, platform_of, program_with_figures, running
from tests.support.lti_platform import TestPlatform
from tests.test_dashboard import LEADER, leader_visit, read_csv, seed_small
from tests.test_exam_results import as_csv


def structure(db: Session, platform: Platform, districts: list[str]) -> dict[str, District]:
    import_structure(
        db,
        platform,
        [{"district_code": code, "district_name": f"สพป.สังเคราะห์ {code}", "network_code": "N1",
          "network_name": "เครือข่ายที่ 1", "school_code": f"{code}-S1", "school_name": f"โรงเรียน {code}"}
         for code in districts],
    )  # fmt: skip
    return {d.code: d for d in db.scalars(select(District).where(District.platform_id == platform.id))}


def test_a_province_leader_leads_its_districts_and_an_obec_leader_every_district_of_the_platform(db: Session) -> None:
    here, elsewhere = platform_of(db, "policy-here"), platform_of(db, "policy-elsewhere")
    districts = structure(db, here, ["D1", "D2", "D3"])
    other = structure(db, elsewhere, ["X1"])
    north = add_province(db, here, "P1", "จังหวัดสังเคราะห์เหนือ")
    for code in ("D1", "D2"):
        assign_district(db, north, districts[code])
    add_policy_leader(db, here, "governor", north)
    add_policy_leader(db, here, "obec", None)
    add_policy_leader(db, elsewhere, "governor-elsewhere", add_province(db, elsewhere, "P1", "อื่น"))

    province = reach_of(db, here.id, "governor")
    national = reach_of(db, here.id, "obec")

    assert province.led_district_ids == {districts["D1"].id, districts["D2"].id} and province.policy_level == "province"
    assert national.led_district_ids == {d.id for d in districts.values()} and national.policy_level == "obec"
    assert other["X1"].id not in national.district_ids  # the OBEC level of a platform is its districts only
    d3_school = db.scalar(select(School.id).where(School.district_id == districts["D3"].id))
    assert d3_school not in province.school_ids and d3_school in national.school_ids
    assert reach_of(db, elsewhere.id, "governor-elsewhere").led_district_ids == frozenset()  # no district assigned
    assert reach_of(db, here.id, "nobody").empty


def test_a_national_leaders_schools_are_read_only_when_a_page_asks_for_them(db: Session) -> None:
    # The national view of 245 districts never needs its 30,000 schools' ids; a chosen school's check does.
    here = platform_of(db, "policy-lazy")
    districts = structure(db, here, ["L1", "L2"])
    add_policy_leader(db, here, "obec-lazy", None)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.get_bind(), "before_cursor_execute", seen)
    try:
        national = reach_of(db, here.id, "obec-lazy")
        assert not any("district_schools" in s or "district_networks" in s for s in statements)
        schools = set(db.scalars(select(School.id).where(School.district_id.in_([d.id for d in districts.values()]))))
        assert set(national.school_ids) == schools and len(national.network_ids) == 2
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", seen)


def test_only_a_districts_own_leader_imports_its_results_never_a_province_or_obec_leader(db: Session) -> None:
    here = platform_of(db, "policy-results")
    districts = structure(db, here, ["D1"])
    north = add_province(db, here, "P1", "จังหวัดสังเคราะห์เหนือ")
    assign_district(db, north, districts["D1"])
    add_policy_leader(db, here, "governor", north)
    add_policy_leader(db, here, "obec", None)
    db.add(Leader(platform_id=here.id, sub="director", district_id=districts["D1"].id))
    db.flush()
    data = as_csv([["2567", "O-NET", "ป.6", "D1-S1", "", "คณิตศาสตร์", "31", "24.10", "28.50", "30.25"]])

    for sub in ("governor", "obec"):
        reach = reach_of(db, here.id, sub)
        assert districts["D1"].id in reach.led_district_ids  # they see it
        with pytest.raises(NotTheDistrictsLeader):  # the page answers 403
            import_district_results(db, reach, districts["D1"].id, "onet.csv", data)
    imported = import_district_results(db, reach_of(db, here.id, "director"), districts["D1"].id, "onet.csv", data)
    assert imported.results == 3


def test_a_full_refresh_is_a_district_leaders_and_locks_the_districts_programs_before_deleting(db: Session) -> None:
    here = platform_of(db, "policy-refresh")
    districts = structure(db, here, ["D1"])
    add_policy_leader(db, here, "obec", None)
    db.add(Leader(platform_id=here.id, sub="director", district_id=districts["D1"].id))
    course = make_course(db, "policy-refresh-course", teachers=3)
    program, _team = running(db, course)
    program.platform_id = here.id
    place_program(db, program, find_unit(db, here, "D1", "D1-S1"))
    db.flush()
    with pytest.raises(NotADistrictLeader):  # the page answers 403
        refresh_figures(db, reach_of(db, here.id, "obec"))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(db.get_bind(), "before_cursor_execute", seen)
    try:
        assert [d.code for d in refresh_figures(db, reach_of(db, here.id, "director"))] == ["D1"]
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", seen)
    first_delete = next(i for i, s in enumerate(statements) if s.startswith("DELETE FROM dashboard_"))
    if db.get_bind().dialect.name == "postgresql":  # SQLite has one writer at a time and no FOR UPDATE
        locks = [i for i, s in enumerate(statements) if "FOR NO KEY UPDATE" in s and "plc_programs" in s]
        assert locks and locks[0] < first_delete and "ORDER BY plc_programs.id" in statements[locks[0]]


def test_a_figure_a_district_withholds_cannot_be_worked_out_from_the_provinces_by_subtraction(db: Session) -> None:
    here = platform_of(db, "policy-subtraction")
    districts = structure(db, here, ["D1", "D2"])
    course = make_course(db, "policy-subtraction-course", teachers=3)
    teachers = {
        "D1": {"คณิตศาสตร์": 20, "วิทยาศาสตร์": 4, "ภาษาไทย": 15},
        "D2": {"คณิตศาสตร์": 20, "วิทยาศาสตร์": 12, "ภาษาไทย": 15},
    }
    cycles = {"D1": 2, "D2": 6}  # student results of คณิตศาสตร์ ป.6: D1 too few to publish
    for code, by_area in teachers.items():
        d = districts[code]
        d.public_summary = True
        network = db.scalar(select(Network.id).where(Network.district_id == d.id))
        for area, n in by_area.items():
            program = program_with_figures(db, course, d.id, network, 2025, area, n)
            if area == "คณิตศาสตร์":
                db.add(ResultStats(program_id=program.id, district_id=d.id, network_id=network, school_id=None,
                                   year=2025, learning_area=area, grade_level="ป.6", measure=AS_PERCENT,
                                   cycles=cycles[code], baseline_sum=40 * cycles[code], result_sum=50 * cycles[code],
                                   improved=cycles[code]))  # fmt: skip
    db.flush()
    for d in districts.values():  # program rows written here, not recomputed: their districts' rows are added up
        rebuild(db, d.id)

    def published(reach: Reach) -> dict[str, int]:
        return {row.key: row.teachers for row in public_table(db, reach, "learning_area")[0]}

    d1, d2 = (public_reach(districts[code]) for code in ("D1", "D2"))
    province = public_reach_of(districts.values())
    assert published(d1) == {"คณิตศาสตร์": 20} and published(d2) == teachers["D2"]
    for area, n in published(province).items():  # the province's figure minus D2's never reveals what D1 withholds
        assert area in published(d1) or n - published(d2)[area] != teachers["D1"][area]
    totals = [public_total(db, reach) for reach in (d1, d2, province)]
    assert [t.teachers if t else None for t in totals] == [39, 47, 86]  # no district withholds its total
    assert [r.cycles for r in public_results(db, d2)] == [6] and public_results(db, d1) == []
    assert public_results(db, province) == []  # 8 cycles minus D2's 6 would be D1's 2


@pytest.fixture
def obec_platform(platform: TestPlatform) -> TestPlatform:
    platform.add_user(LEADER)
    return platform


def test_the_national_view_rolls_districts_up_and_the_public_summary_exists_at_every_level(
    tool: ToolServer, obec_platform: TestPlatform
) -> None:
    seeded = seed_small(tool, obec_platform)
    with tool.database.transaction() as db:
        platform = db.scalars(select(Platform).where(Platform.issuer == obec_platform.issuer)).one()
        districts = structure(db, platform, ["D9"])
        province = add_province(db, platform, "P1", "จังหวัดสังเคราะห์")
        small = db.get(District, seeded)
        assert small is not None
        assign_district(db, province, small)
        add_policy_leader(db, platform, LEADER.sub, None)
        platform_id, province_id, d9 = platform.id, province.id, districts["D9"].id
        other_school = db.scalar(select(School.id).where(School.district_id == districts["D9"].id))

    visit = leader_visit(tool, obec_platform)
    page = visit.get("/dashboard")
    assert page.status_code == 200 and 'id="t-districts"' in page.text and 'id="t-provinces"' in page.text
    assert 'id="t-schools"' not in page.text  # the national view: districts, not thousands of schools
    assert "จังหวัดสังเคราะห์" in page.text and "สพป.สังเคราะห์ D9" in page.text
    assert visit.get("/dashboard", school=str(other_school)).status_code == 200  # within the OBEC level's reach
    one = visit.get("/dashboard", district=str(d9))  # choosing a district shows its networks and schools
    assert one.status_code == 200 and "โรงเรียน D9" in one.text  # its school among the filter's choices
    assert visit.get("/dashboard", district="999999").status_code == 403

    assert requests.get(tool.url(f"/public/nation/{platform_id}"), timeout=10).status_code == 404  # none published
    with tool.database.transaction() as db:
        published = db.get(District, seeded)
        assert published is not None
        published.public_summary = True
    nation = requests.get(tool.url(f"/public/nation/{platform_id}"), timeout=10)
    in_province = requests.get(tool.url(f"/public/provinces/{province_id}"), timeout=10)
    assert nation.status_code == 200 and in_province.status_code == 200
    districts_table = re.search(r'id="t-districts".*?</table>', nation.text, re.S)
    assert districts_table and "สพป.สังเคราะห์ D9" not in nation.text  # unpublished districts are not in it
    assert "syn-small" not in nation.text  # no person


def test_a_province_leader_is_refused_a_school_of_another_province(
    tool: ToolServer, obec_platform: TestPlatform
) -> None:
    seed_small(tool, obec_platform)
    with tool.database.transaction() as db:
        platform = db.scalars(select(Platform).where(Platform.issuer == obec_platform.issuer)).one()
        districts = structure(db, platform, ["D7", "D8"])
        province = add_province(db, platform, "P7", "จังหวัดเจ็ด")
        assign_district(db, province, districts["D7"])
        add_policy_leader(db, platform, LEADER.sub, province)
        outside = db.scalar(select(School.id).where(School.district_id == districts["D8"].id))

    visit = leader_visit(tool, obec_platform)
    assert visit.get("/dashboard").status_code == 200
    assert visit.get("/dashboard", school=str(outside)).status_code == 403
    assert visit.get(f"/dashboard/schools/{outside}").status_code == 403


def test_a_leader_of_many_districts_sees_provinces_first_and_a_provinces_districts_on_choosing_it(
    tool: ToolServer, obec_platform: TestPlatform
) -> None:
    seeded = seed_small(tool, obec_platform)
    codes = [f"M{n:02d}" for n in range(DISTRICT_ROWS + 1)]
    with tool.database.transaction() as db:
        platform = db.scalars(select(Platform).where(Platform.issuer == obec_platform.issuer)).one()
        districts = structure(db, platform, codes)
        north, south = add_province(db, platform, "PN", "จังหวัดเหนือ"), add_province(db, platform, "PS", "จังหวัดใต้")
        small = db.get(District, seeded)
        assert small is not None
        assign_district(db, north, small)
        for n, code in enumerate(codes):
            assign_district(db, north if n % 2 else south, districts[code])
        add_policy_leader(db, platform, LEADER.sub, None)
        north_id, small_name = north.id, small.name

    visit = leader_visit(tool, obec_platform)
    page = visit.get("/dashboard")
    assert page.status_code == 200 and 'id="t-provinces"' in page.text and 'id="t-districts"' not in page.text
    assert f"province={north_id}" in page.text and 'id="f-province"' in page.text  # a link and a filter per province
    assert "สพป.สังเคราะห์ M01" not in page.text.split("</form>", 1)[1]  # no district's row before one is chosen
    every = read_csv(visit.get("/dashboard/districts.csv"))  # every district's figures stay one download away
    assert small_name in [row[0] for row in every] and len(every) == 2  # the header and the one with programs

    chosen = visit.get("/dashboard", province=str(north_id))
    table = re.search(r'id="t-districts".*?</table>', chosen.text, re.S)
    assert chosen.status_code == 200 and table and small_name in table.group(0)
    assert visit.get("/dashboard", province="999999").status_code == 403
