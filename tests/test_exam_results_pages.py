"""National test results on the dashboard over real launches (issue 17): `plc-bridge results import`, the upload
page for district leaders only (a file with an unknown school refused whole, listed), the district's and a school's
view against the nation, and a school outside the leader's reach refused (403)."""

from __future__ import annotations

import re

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import func, select

from lti_tool.cli.main import main as cli
from models.district import School
from models.exam_results import ExamResult
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_dashboard import LEADER, lead, leader_visit, seed_small
from tests.test_exam_results import HEADINGS
from tests.test_program_pages import Visit


@pytest.fixture
def leader_platform(platform: TestPlatform) -> TestPlatform:
    platform.add_user(LEADER)
    return platform


@pytest.fixture
def admin_cli(tool: ToolServer, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PLC_DATABASE_URL", tool.settings.database_url)
    monkeypatch.setenv("PLC_SECRET_KEY", "cli-test-secret-" + "x" * 20)
    monkeypatch.setenv("PLC_INSTANCE_PATH", str(tool.settings.instance_path))
    return CliRunner()


def results_csv(codes: list[str]) -> bytes:
    rows = [HEADINGS]
    for n, code in enumerate(codes):
        rows.append(["2568", "O-NET", "ม.3", code, "", "วิทยาศาสตร์", "20", f"{22 + n}.50", "30.00", "32.10"])
        rows.append(["2568", "NT", "ป.3", code, "", "ด้านภาษาไทย", "20", f"{45 + n}.00", "50.00", "52.30"])
    return "\n".join(",".join(row) for row in rows).encode("utf-8-sig")


def school_codes(tool: ToolServer) -> list[tuple[int, str, int]]:
    with tool.database.transaction() as db:
        return [(s.id, s.code, s.network_id) for s in db.scalars(select(School).order_by(School.code))]


def upload(visit: Visit, data: bytes, filename: str = "onet.csv") -> requests.Response:
    page = visit.get("/dashboard/results")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    district = re.search(r'<option value="(\d+)"', page.text)
    assert token and district
    return visit.browser.post(
        visit.tool.url("/dashboard/results"),
        params={"s": visit.token},
        data={"csrf": token.group(1), "district": district.group(1)},
        files={"file": (filename, data, "text/csv")},
    )


def test_a_district_leader_imports_results_and_sees_the_district_and_a_school_against_the_nation(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    lead(tool, leader_platform)
    visit = leader_visit(tool, leader_platform)
    schools = school_codes(tool)

    refused = upload(visit, results_csv([schools[0][1], "NO-SUCH-SCHOOL"]))
    assert refused.status_code == 422 and "NO-SUCH-SCHOOL" in refused.text and 'id="unknown-schools"' in refused.text
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(ExamResult)) == 0

    imported = upload(visit, results_csv([code for _, code, _ in schools[:3]]))
    assert imported.status_code == 200 and 'id="imported"' in imported.text

    dashboard = visit.get("/dashboard")
    assert "ระดับประเทศ" in dashboard.text or "ประเทศ" in dashboard.text
    assert "วิทยาศาสตร์" in dashboard.text and "-2.10" in dashboard.text  # the district: 30.00 − nation 32.10
    assert "-9.60" in dashboard.text  # its school furthest below: 22.50 − 32.10
    assert "วงรอบ:" in dashboard.text  # beside the weakest subjects, the district's PLC cycles that targeted them
    school_page = visit.get(f"/dashboard/schools/{schools[0][0]}")
    assert school_page.status_code == 200 and "22.50" in school_page.text and "32.10" in school_page.text

    # Importing again asks first, saying what it replaces; nothing is written until confirmed.
    again = upload(visit, results_csv([schools[0][1]]))
    assert again.status_code == 200 and 'id="confirm-replace"' in again.text and "2568" in again.text
    replaces = re.search(r'name="pending" value="([0-9a-f]+)"', again.text)
    token = re.search(r'id="confirm-replace".*?name="csrf" value="([0-9a-f]+)"', again.text, re.S)
    district = re.search(r'name="district" value="(\d+)"', again.text)
    assert replaces and token and district
    with tool.database.transaction() as db:
        assert db.scalar(select(func.count()).select_from(ExamResult)) == 3 * 2 + 2 + 2
    confirmed = visit.post(
        "/dashboard/results/confirm",
        {"csrf": token.group(1), "pending": replaces.group(1), "district": district.group(1)},
    )
    assert confirmed.status_code == 200 and 'id="imported"' in confirmed.text
    stale = visit.post(
        "/dashboard/results/confirm",
        {"csrf": token.group(1), "pending": replaces.group(1), "district": district.group(1)},
    )
    assert stale.status_code == 409 and 'id="expired"' in stale.text  # used once

    # A file over the cap: the page's own message beside the field, in Thai.
    big = upload(visit, b"x" * (2 * 1024 * 1024 + 10))
    assert big.status_code == 422 and "ไฟล์ใหญ่เกิน 2 MB" in big.text
    assert 'aria-invalid="true"' in big.text and 'aria-describedby="file-help file-error"' in big.text


def test_only_a_district_leader_imports_and_a_school_beyond_a_leaders_reach_is_refused(
    tool: ToolServer, leader_platform: TestPlatform
) -> None:
    seed_small(tool, leader_platform)
    schools = school_codes(tool)
    networks = sorted({network for _, _, network in schools})
    with tool.database.transaction() as db:
        from models.district import Network

        first_network = db.get(Network, networks[0])
        assert first_network is not None
        code = first_network.code
    lead(tool, leader_platform, code)
    visit = leader_visit(tool, leader_platform)

    assert visit.get("/dashboard/results").status_code == 403
    other = next(school_id for school_id, _, network in schools if network != networks[0])
    assert visit.get(f"/dashboard/schools/{other}").status_code == 403
    own = next(school_id for school_id, _, network in schools if network == networks[0])
    assert visit.get(f"/dashboard/schools/{own}").status_code == 200


def test_the_results_import_command_reads_a_file_and_refuses_an_unknown_school(
    tool: ToolServer, leader_platform: TestPlatform, admin_cli: CliRunner, tmp_path
) -> None:
    seed_small(tool, leader_platform)
    codes = [code for _, code, _ in school_codes(tool)]
    good, bad = tmp_path / "onet.csv", tmp_path / "bad.csv"
    good.write_bytes(results_csv(codes[:2]))
    bad.write_bytes(results_csv(["S-UNKNOWN"]))
    issuer = ["--district", "SYN-SMALL", "--issuer", leader_platform.issuer]

    refused = admin_cli.invoke(cli, ["results", "import", str(bad), *issuer])
    imported = admin_cli.invoke(cli, ["results", "import", str(good), *issuer])

    assert refused.exit_code != 0 and "S-UNKNOWN" in refused.output and "Nothing was written" in refused.output
    assert imported.exit_code == 0 and "of 2 schools" in imported.output and "2568" in imported.output
