"""The district dashboard over real launches: leaders see only what they lead (page, filters and CSV), filters,
empty states, CSV formula injection, the public summary that never shows a person, and `plc-bridge seed-demo`."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_tool.cli.main import main as cli
from lti_tool.web.csv_export import safe_cell
from models.dashboard_stats import ProgramStats, refresh_district
from models.district import District, Leader, Network, School, add_leader, find_unit, import_structure
from models.people import Person
from models.platform import Platform
from models.programs import Program
from models.synthetic import SIZES, seed_district
from tests.conftest import LIS, ToolServer, launch
from tests.support.lti_platform import LaunchUser, TestPlatform
from tests.test_program_pages import Visit, create, trainer_visit

TODAY = date(2026, 11, 23)
LEADER = LaunchUser(
    sub="u-leader-1",
    name="ประยุทธ ผู้อำนวยการ",
    given_name="ประยุทธ",
    family_name="ผู้อำนวยการ",
    email="leader@example.org",
    roles=[LIS + "Instructor"],
    locale="th",
)


@pytest.fixture
def leader_platform(platform: TestPlatform) -> TestPlatform:
    platform.add_user(LEADER)
    return platform


def seed_small(tool: ToolServer, platform: TestPlatform) -> int:
    with tool.database.transaction() as db:
        row = db.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        return seed_district(db, row, SIZES["small"], today=TODAY).district_id


def lead(tool: ToolServer, platform: TestPlatform, code: str | None = None, district: str = "SYN-SMALL") -> None:
    with tool.database.transaction() as db:
        row = db.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        add_leader(db, row, LEADER.sub, find_unit(db, row, district, code))


def leader_visit(tool: ToolServer, platform: TestPlatform) -> Visit:
    return Visit(tool, launch(requests.Session(), platform, LEADER, context_id="district-office"))


def schools_by_network(tool: ToolServer) -> dict[str, list[tuple[int, str]]]:
    with tool.database.transaction() as db:
        found: dict[str, list[tuple[int, str]]] = {}
        for network in db.scalars(select(Network).order_by(Network.code)):
            found[network.code] = [(s.id, s.name) for s in network.schools]
        return found


def read_csv(response: requests.Response) -> list[list[str]]:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- Who sees what ----------------------------------------------------------------------------------------------


def test_a_district_leader_sees_every_network_and_school_with_charts(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform)
    page = leader_visit(tool, leader_platform).get("/dashboard")

    assert page.status_code == 200
    for schools in schools_by_network(tool).values():
        assert all(name in page.text for _, name in schools)
    assert page.text.count('<svg class="chart"') == 5 and page.text.count("<title id=") == 5
    assert "ข้อมูลสังเคราะห์" in page.text and "2569" in page.text  # labelled synthetic; Buddhist Era years
    assert "<script" not in page.text and "style=" not in page.text


def test_a_network_leader_sees_only_their_networks_schools_on_the_page_and_in_the_csv(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform, "N01")
    visit = leader_visit(tool, leader_platform)
    mine, others = schools_by_network(tool)["N01"], schools_by_network(tool)["N02"]

    page = visit.get("/dashboard")
    exported = read_csv(visit.get("/dashboard/schools.csv"))

    assert page.status_code == 200
    assert all(name in page.text for _, name in mine)
    assert not any(name in page.text for _, name in others)
    assert {row[0] for row in exported[1:]} == {name for _, name in mine}
    with tool.database.transaction() as db:
        n01 = db.scalars(select(Network).where(Network.code == "N01")).one()
        teachers = db.scalar(select(func.sum(ProgramStats.teachers)).where(ProgramStats.network_id == n01.id))
    assert sum(int(row[4]) for row in exported[1:]) == teachers


def test_another_networks_school_or_network_by_filter_is_refused_with_nothing_shown(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform, "N01")
    visit = leader_visit(tool, leader_platform)
    other_school = schools_by_network(tool)["N02"][0]
    with tool.database.transaction() as db:
        other_network = db.scalars(select(Network.id).where(Network.code == "N02")).one()

    for path in ("/dashboard", "/dashboard/schools.csv", "/dashboard/results.csv"):
        by_school = visit.get(path, school=str(other_school[0]))
        by_network = visit.get(path, network=str(other_network))
        assert by_school.status_code == 403 and other_school[1] not in by_school.text
        assert by_network.status_code == 403


def test_a_school_leader_sees_their_school_alone(tool: ToolServer, leader_platform: TestPlatform) -> None:
    seed_small(tool, leader_platform)
    [(school_id, school), *rest] = schools_by_network(tool)["N01"]
    with tool.database.transaction() as db:
        code = db.get(School, school_id).code  # type: ignore[union-attr]
    lead(tool, leader_platform, code)

    exported = read_csv(leader_visit(tool, leader_platform).get("/dashboard/schools.csv"))

    assert [row[0] for row in exported[1:]] == [school]


def test_someone_who_leads_nothing_is_refused_the_dashboard(tool: ToolServer, leader_platform: TestPlatform) -> None:
    seed_small(tool, leader_platform)
    visit = leader_visit(tool, leader_platform)

    page, exported = visit.get("/dashboard"), visit.get("/dashboard/networks.csv")

    assert page.status_code == 403 and "plc-bridge leaders add" in page.text
    assert exported.status_code == 403 and "text/csv" not in exported.headers["Content-Type"]


def test_a_leader_of_another_platform_with_the_same_sub_sees_nothing(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    with tool.database.transaction() as db:
        other = Platform(
            issuer="https://other-lms.example", client_id="x", name="Other", auth_login_url="https://o/a",
            auth_token_url="https://o/t", key_set_url="https://o/j",
        )  # fmt: skip
        db.add(other)
        db.flush()
        import_structure(db, other, [dict(district_code="D", district_name="อื่น", network_code="N",
                                          network_name="เครือข่ายอื่น", school_code="S", school_name="โรงเรียนอื่น")])  # fmt: skip
        add_leader(db, other, LEADER.sub, find_unit(db, other, "D"))
    try:
        assert leader_visit(tool, leader_platform).get("/dashboard").status_code == 403
    finally:
        with tool.database.transaction() as db:
            db.delete(db.scalars(select(Platform).where(Platform.issuer == "https://other-lms.example")).one())


def test_without_a_session_the_dashboard_asks_to_open_it_from_the_lms(tool: ToolServer) -> None:
    assert requests.get(tool.url("/dashboard"), timeout=10).status_code == 401
    assert requests.get(tool.url("/dashboard/schools.csv"), timeout=10).status_code == 401


# --- Filters and empty states -----------------------------------------------------------------------------------


def test_filters_narrow_every_table_to_one_year_and_learning_area(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform)
    visit = leader_visit(tool, leader_platform)
    with tool.database.transaction() as db:
        area = db.scalars(select(ProgramStats.learning_area).where(ProgramStats.year == 2025)).first()
        expected = db.scalar(
            select(func.sum(ProgramStats.teams)).where(ProgramStats.year == 2025, ProgramStats.learning_area == area)
        )

    exported = read_csv(visit.get("/dashboard/years.csv", year="2025", area=str(area)))
    page = visit.get("/dashboard", year="2025", area=str(area))

    assert [row[0] for row in exported[1:]] == ["2568"]  # the Buddhist Era year in Thai
    assert int(exported[1][3]) == expected
    assert page.status_code == 200 and 'value="2025" selected' in page.text
    in_thai_digits = read_csv(visit.get("/dashboard/years.csv", year="๒๕๖๘", area=str(area)))  # the BE year
    assert in_thai_digits == exported


def test_a_malformed_filter_is_refused_with_a_message(tool: ToolServer, leader_platform: TestPlatform) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform)
    visit = leader_visit(tool, leader_platform)

    for args in ({"year": "2568abc"}, {"school": "-1"}, {"network": "1e9"}, {"year": "2²"}):
        page = visit.get("/dashboard", lang="en", **args)
        assert page.status_code == 400 and "needs a number" in page.text


def test_a_district_with_no_programs_yet_says_so(tool: ToolServer, leader_platform: TestPlatform) -> None:
    with tool.database.transaction() as db:
        row = db.scalars(select(Platform).where(Platform.issuer == leader_platform.issuer)).one()
        import_structure(db, row, [dict(district_code="D1", district_name="สพป. ใหม่", network_code="N1",
                                        network_name="เครือข่ายใหม่", school_code="S1", school_name="โรงเรียนใหม่")])  # fmt: skip
    lead(tool, leader_platform, district="D1")

    page = leader_visit(tool, leader_platform).get("/dashboard", lang="en")

    assert page.status_code == 200 and "No programs yet" in page.text and '<svg class="chart"' not in page.text


def test_a_program_whose_school_field_holds_a_school_code_appears_at_once_and_a_refresh_repairs(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    with tool.database.transaction() as db:
        row = db.scalars(select(Platform).where(Platform.issuer == leader_platform.issuer)).one()
        import_structure(db, row, [dict(district_code="D1", district_name="สพป. ใหม่", network_code="N1",
                                        network_name="เครือข่ายใหม่", school_code="S-101", school_name="โรงเรียนใหม่")])  # fmt: skip
    lead(tool, leader_platform, district="D1")
    create(trainer_visit(tool, leader_platform), school_or_network="S-101")
    visit = leader_visit(tool, leader_platform)
    page = visit.get("/dashboard", lang="en")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert "No programs yet" not in page.text and csrf  # placed by its school's code when it was created
    assert read_csv(visit.get("/dashboard/schools.csv"))[1][:2] == ["โรงเรียนใหม่", "1"]

    refused = visit.post("/dashboard/refresh", {"csrf": "forged"})
    assert refused.status_code == 400

    refreshed = visit.post("/dashboard/refresh", {"csrf": csrf.group(1)})
    assert refreshed.status_code == 200 and "No programs yet" not in refreshed.text
    assert read_csv(visit.get("/dashboard/schools.csv"))[1][:2] == ["โรงเรียนใหม่", "1"]


# --- CSV formula injection --------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_that_starts_a_formula_is_neutralised(start: str) -> None:
    assert safe_cell(start + "HYPERLINK(1)") == "'" + start + "HYPERLINK(1)"


@pytest.mark.parametrize("value", ["โรงเรียนบ้านหนองบัว", "a=b", 12, -3])
def test_ordinary_text_and_numbers_are_exported_as_they_are(value: object) -> None:
    assert safe_cell(value) == value


def test_school_names_that_look_like_formulas_export_as_text(tool: ToolServer, leader_platform: TestPlatform) -> None:
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0"]
    with tool.database.transaction() as db:
        row = db.scalars(select(Platform).where(Platform.issuer == leader_platform.issuer)).one()
        import_structure(db, row, [dict(district_code="D1", district_name="สพป.", network_code="N1",
                                        network_name="=1+2", school_code=f"S{i}", school_name=name)
                                   for i, name in enumerate(hostile)])  # fmt: skip
        for i in range(len(hostile)):
            program = Program(platform_id=row.id, context_id=_context(db, row), name=f"P{i}", school_or_network=f"S{i}")
            db.add(program)
        db.flush()
        refresh_district(db, db.scalars(select(District).where(District.code == "D1")).one())
    lead(tool, leader_platform, district="D1")
    visit = leader_visit(tool, leader_platform)

    schools = read_csv(visit.get("/dashboard/schools.csv"))
    networks = read_csv(visit.get("/dashboard/networks.csv"))

    assert sorted(row[0] for row in schools[1:]) == sorted("'" + name for name in hostile)
    assert networks[1][0] == "'=1+2"


def _context(db, platform: Platform) -> int:  # type: ignore[no-untyped-def]
    from models.people import Context

    context = Context(platform_id=platform.id, deployment_id=platform.deployments[0].id, context_id="csv-course")
    existing = db.scalars(select(Context).where(Context.context_id == "csv-course")).first()
    if existing:
        return int(existing.id)
    db.add(context)
    db.flush()
    return int(context.id)


# --- The public summary -----------------------------------------------------------------------------------------


def test_the_public_summary_is_absent_until_the_district_publishes_it(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    district_id = seed_small(tool, leader_platform)
    assert requests.get(tool.url(f"/public/districts/{district_id}"), timeout=10).status_code == 404
    assert requests.get(tool.url("/public/districts/999999"), timeout=10).status_code == 404


def test_the_public_summary_shows_aggregates_never_a_person_nor_a_small_group(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    district_id = seed_small(tool, leader_platform)
    with tool.database.transaction() as db:
        district = db.get(District, district_id)
        assert district is not None
        district.public_summary = True
        # A third network with a single three-teacher program: too small to show on its own.
        tiny = Network(district_id=district_id, code="N03", name="เครือข่ายเล็กมาก")
        db.add(tiny)
        db.flush()
        stats_row = db.scalars(select(ProgramStats).where(ProgramStats.district_id == district_id)).first()
        assert stats_row is not None
        db.add(ProgramStats(**{**{c.key: getattr(stats_row, c.key) for c in ProgramStats.__table__.columns},
                               "program_id": _extra_program(db, district_id), "network_id": tiny.id,
                               "school_id": None, "teachers": 3, "teachers_eligible": 1}))  # fmt: skip
        people = [p.name for p in db.scalars(select(Person).where(Person.sub.like("syn-small-%")))]

    page = requests.get(tool.url(f"/public/districts/{district_id}"), timeout=10)

    assert page.status_code == 200
    assert not [name for name in people if name in page.text]
    assert "เครือข่ายเล็กมาก" not in page.text
    # Secondary suppression: with the tiny network withheld, the smaller of the other two is withheld too.
    networks = re.search(r'id="t-networks".*?</table>', page.text, re.S)
    assert networks and networks.group(0).count("<tr>") == 2  # the header and one network
    assert "2 " in page.text.split('id="t-networks"', 1)[1].split("</section>", 1)[0]


def _extra_program(db, district_id: int) -> int:  # type: ignore[no-untyped-def]
    district = db.get(District, district_id)
    context_id = db.scalars(select(Program.context_id)).first()
    program = Program(platform_id=district.platform_id, context_id=context_id, name="เล็ก")
    db.add(program)
    db.flush()
    return int(program.id)


# --- seed-demo --------------------------------------------------------------------------------------------------


def test_seed_demo_small_creates_the_district_once_and_refuses_a_second_run(
    tool: ToolServer, leader_platform: TestPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLC_DATABASE_URL", tool.settings.database_url)
    monkeypatch.setenv("PLC_SECRET_KEY", "seed-test-secret-" + "x" * 20)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tool.settings.instance_path))
    runner = CliRunner()

    first = runner.invoke(cli, ["seed-demo", "--size", "small", "--issuer", leader_platform.issuer,
                                "--leader-sub", LEADER.sub])  # fmt: skip
    with tool.database.transaction() as db:
        counts = {
            "schools": db.scalar(select(func.count()).select_from(School)),
            "networks": db.scalar(select(func.count()).select_from(Network)),
            "programs": db.scalar(select(func.count()).select_from(Program)),
            "leaders": db.scalar(select(func.count()).select_from(Leader)),
        }
    second = runner.invoke(cli, ["seed-demo", "--size", "small", "--issuer", leader_platform.issuer])

    assert first.exit_code == 0, first.output
    assert "dashboard figures refreshed" in first.output
    assert counts == {"schools": 10, "networks": 2, "programs": 30, "leaders": 1}
    assert second.exit_code != 0 and "already" in second.output
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Program)) == 30
    page = leader_visit(tool, leader_platform).get("/dashboard")
    assert page.status_code == 200 and "SYN-SMALL" not in page.text and "ข้อมูลสังเคราะห์" in page.text


def test_a_leaders_landing_page_offers_the_dashboard_and_a_teachers_does_not(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform, "N02")

    leader_page = launch(requests.Session(), leader_platform, LEADER, context_id="district-office")
    teacher_page = launch(requests.Session(), leader_platform, context_id="district-office")

    assert leader_page.status_code == 200 and 'href="/dashboard?s=' in leader_page.text
    assert teacher_page.status_code == 200 and "/dashboard" not in teacher_page.text


# --- Administration by command ----------------------------------------------------------------------------------

STRUCTURE = (
    "district_code,district_name,network_code,network_name,school_code,school_name\n"
    "D9,สพป. ทดสอบ,N1,เครือข่ายหนึ่ง,S1,โรงเรียนหนึ่ง\n"
    "D9,สพป. ทดสอบ,N1,เครือข่ายหนึ่ง,S2,โรงเรียนสอง\n"
    "D9,สพป. ทดสอบ,N2,เครือข่ายสอง,S3,โรงเรียนสาม\n"
)


@pytest.fixture
def admin_cli(tool: ToolServer, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PLC_DATABASE_URL", tool.settings.database_url)
    monkeypatch.setenv("PLC_SECRET_KEY", "cli-test-secret-" + "x" * 20)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tool.settings.instance_path))
    return CliRunner()


def test_an_administrator_imports_schools_names_a_network_leader_and_publishes_by_command(
    tool: ToolServer, leader_platform: TestPlatform, admin_cli: CliRunner, tmp_path: object
) -> None:
    issuer = ["--issuer", leader_platform.issuer]
    imported = admin_cli.invoke(cli, ["districts", "import", "-", *issuer], input=STRUCTURE)
    named = admin_cli.invoke(cli, ["leaders", "add", "--sub", LEADER.sub, "--district", "D9", "--unit", "N1", *issuer])
    listed = admin_cli.invoke(cli, ["leaders", "list", *issuer])
    published = admin_cli.invoke(cli, ["districts", "publish", "D9", *issuer])

    assert imported.exit_code == 0 and "added 1 districts, 2 networks, 3 schools" in imported.output
    assert named.exit_code == 0 and listed.output.strip() == f"{LEADER.sub}  network N1"
    assert published.exit_code == 0 and "/public/districts/" in published.output
    options = leader_visit(tool, leader_platform).get("/dashboard").text
    assert "โรงเรียนหนึ่ง" in options and "โรงเรียนสอง" in options and "โรงเรียนสาม" not in options


def test_a_leader_of_an_unknown_unit_is_refused_with_a_message_and_nothing_written(
    tool: ToolServer, leader_platform: TestPlatform, admin_cli: CliRunner
) -> None:
    issuer = ["--issuer", leader_platform.issuer]
    admin_cli.invoke(cli, ["districts", "import", "-", *issuer], input=STRUCTURE)

    unknown_unit = admin_cli.invoke(cli, ["leaders", "add", "--sub", "x", "--district", "D9", "--unit", "S99", *issuer])
    unknown_district = admin_cli.invoke(cli, ["leaders", "add", "--sub", "x", "--district", "NOPE", *issuer])

    assert unknown_unit.exit_code != 0 and "has no network or school 'S99'" in unknown_unit.output
    assert unknown_district.exit_code != 0 and "no district 'NOPE'" in unknown_district.output
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(Leader)) == 0


def test_a_structure_file_with_a_missing_column_or_value_imports_nothing(
    tool: ToolServer, leader_platform: TestPlatform, admin_cli: CliRunner
) -> None:
    issuer = ["--issuer", leader_platform.issuer]
    no_column = admin_cli.invoke(cli, ["districts", "import", "-", *issuer], input="district_code,school_code\nD,S\n")
    blank = STRUCTURE + "D9,สพป. ทดสอบ,N2,เครือข่ายสอง,,โรงเรียนสี่\n"
    no_value = admin_cli.invoke(cli, ["districts", "import", "-", *issuer], input=blank)

    assert no_column.exit_code != 0 and "missing: district_name" in no_column.output
    assert no_value.exit_code != 0 and "line 5: school_code missing; nothing was imported" in no_value.output
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(District)) == 0
