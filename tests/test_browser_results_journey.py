"""The district leader's journey with national test results in a real Chromium, in Thai at Moodle's 800 px (issue
17): import the results file on the upload page, see the district and a school against the nation with the PLC
cycles beside the weakest subjects, and see a trainer's newly recorded session on the dashboard at the next load.
Saves the screenshots of docs/screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from models.district import find_unit, place_program
from models.people import Context
from models.platform import Platform
from models.programs import Program
from tests.conftest import ToolServer, launch
from tests.support.lti_platform import TestPlatform
from tests.test_dashboard import LEADER, lead, seed_small
from tests.test_exam_results_pages import results_csv, school_codes
from tests.test_program_pages import trainer_visit
from tests.test_sessions_page import record, running_program_with_a_team

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def teacher_hours(page: object) -> float:
    tile = page.locator("ul.tiles li").nth(4).inner_text()  # type: ignore[attr-defined]
    return float(re.sub(r"[^\d.]", "", tile.split()[0]))


def test_a_leader_imports_results_sees_school_versus_nation_and_a_new_session_on_the_next_load(
    tool: ToolServer, platform: TestPlatform, browser: object, tmp_path: Path
) -> None:
    platform.add_user(LEADER)
    seed_small(tool, platform)
    lead(tool, platform)
    running_program_with_a_team(tool, platform)  # the trainer's program of course-42, placed at a school below
    schools = school_codes(tool)
    with tool.database.transaction() as db:
        row = db.scalars(select(Platform).where(Platform.issuer == platform.issuer)).one()
        # The program the trainer of course-42 runs now (the newest of that course: earlier tests of this process
        # may have left programs of their own; a list without an order came back in another order on PostgreSQL).
        program = db.scalars(
            select(Program)
            .join(Context, Context.id == Program.context_id)
            .where(Context.platform_id == row.id, Context.context_id == "course-42")
            .order_by(Program.id.desc())
        ).first()
        assert program is not None
        place_program(db, program, find_unit(db, row, "SYN-SMALL", schools[0][1]))
    results = tmp_path / "onet-2568.csv"
    results.write_bytes(results_csv([code for _, code, _ in schools[:4]]))
    landing = launch(requests.Session(), platform, LEADER, context_id="district-office")
    token = landing.url.split("s=", 1)[1]
    page = browser.new_page(viewport={"width": 800, "height": 900}, locale="th-TH")  # type: ignore[attr-defined]

    page.goto(tool.url(f"/dashboard/results?s={token}"))
    page.get_by_label("ไฟล์ผลการทดสอบ (CSV หรือ XLSX ไม่เกิน 2 MB)").set_input_files(str(results))
    with page.expect_navigation():
        page.get_by_role("button", name="นำเข้า", exact=True).click()
    assert page.locator("#imported").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "results-import-th.png"), full_page=True)

    page.get_by_role("link", name="ดูบนแดชบอร์ด").click()
    versus = page.locator("section[aria-labelledby='h-versus']")
    versus.wait_for()
    assert "ต่ำกว่าระดับประเทศมากที่สุด" in versus.inner_text()
    versus.screenshot(path=str(SCREENSHOTS / "dashboard-district-versus-nation-th.png"))
    before = teacher_hours(page)

    page.locator("[id^='schools-below-'] a").first.click()
    page.get_by_role("heading", name="โรงเรียนเทียบกับเขตพื้นที่และระดับประเทศ").wait_for()
    assert "32.10" in page.content() and page.locator("table[id$='-below'] tbody tr").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.screenshot(path=str(SCREENSHOTS / "school-versus-nation-th.png"), full_page=True)

    trainer = trainer_visit(tool, platform)
    recorded = record(trainer, cycle="1", element="1", held_on="2026-11-20", hours="2", notes="ตกลงบรรทัดฐานของกลุ่ม")
    assert recorded.status_code == 200

    page.goto(tool.url(f"/dashboard?s={token}"))
    assert teacher_hours(page) == before + 6  # two hours, three teachers present: on the next load, no refresh
    page.close()
