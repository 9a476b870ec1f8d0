"""The agency page in a real browser (Debian's Chromium, 800 px, Thai): a name left out is refused beside its field
with the rest kept, the saved agency and a staff member with their training show, and the program page offers the
letters; nothing is wider than the screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_agency_pages import AGENCY, STAFF, agencies
from tests.test_browser_plc import fits
from tests.test_browser_program_confirm import program_page, thai_trainer  # noqa: F401 (a fixture)
from tests.test_sessions_page import running_program_with_a_team

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def test_a_trainer_sets_up_the_agency_and_its_staff_in_thai(
    tool: ToolServer,
    platform: TestPlatform,
    browser: Any,
    thai_trainer: None,  # noqa: F811
) -> None:
    running_program_with_a_team(tool, platform, start=False)
    page = program_page(browser, platform)
    page.get_by_role("link", name="หน่วยงานที่ดำเนินโครงการ").first.click()
    page.get_by_role("heading", name="หน่วยงานที่ดำเนินโครงการ").wait_for()

    form = page.locator("#agency-form")
    form.get_by_label("ประเภทหน่วยงาน").select_option(AGENCY["kind"])
    # The name the program was sent to the Council with, offered: an approved plan's agency keeps that name (§2.6).
    sent_with = form.locator("[name=name]").input_value()
    assert sent_with != ""
    form.locator("[name=name]").fill("")
    for field, value in AGENCY.items():
        if field not in ("kind", "name"):
            form.locator(f"[name={field}]").fill(value)
    form.get_by_role("button", name="บันทึกข้อมูลหน่วยงาน").click()
    page.locator("#agency-name-error").wait_for()
    assert "โปรดกรอกช่องนี้" in page.locator("#agency-name-error").inner_text()
    assert page.locator("#agency-form [name=signatory_name]").input_value() == AGENCY["signatory_name"]
    assert agencies(tool) == []

    page.locator("#agency-form [name=name]").fill(sent_with)
    page.locator("#agency-form").get_by_role("button", name="บันทึกข้อมูลหน่วยงาน").click()
    page.get_by_role("status").wait_for()
    staff = page.locator("#staff-form")
    for field, value in STAFF.items():
        staff.locator(f"[name={field}]").fill(value)
    staff.get_by_role("button", name="เพิ่มในรายชื่อบุคลากร").click()
    page.locator("#agency-staff").wait_for()

    assert "หน่วยงานระดับสำนักงานเขตพื้นที่" in page.locator("#agency-summary").inner_text()
    row = page.locator("#agency-staff tbody tr").first.inner_text()
    assert STAFF["name"] in row and "20 สิงหาคม 2568" in row
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "agency-page-th.png"), full_page=True)

    page.get_by_role("link", name="โครงการ PLC").first.click()
    page.locator("#letters").wait_for()
    assert page.locator("#letter-application [name=number]").count() == 1
    assert "สิ้นสุดแล้ว" in page.locator("#letter-certificates-not-ready").inner_text()
    assert fits(page)
    page.locator("#letters").screenshot(path=str(SCREENSHOTS / "program-letters-th.png"))
    page.close()
    assert [(name, staff_names) for name, _kind, staff_names in agencies(tool)] == [(sent_with, [STAFF["name"]])]
