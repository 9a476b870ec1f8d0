"""Council dates and the next year's program in a real browser (Debian's Chromium, 800 px, Thai): the trainer
submits with the day the application was sent, and once the program is done with the Council sets up the next one
while the earlier stays listed."""

from __future__ import annotations

from typing import Any

from models.states import ProgramState
from tests.conftest import ToolServer
from tests.support.lti_platform import TestPlatform
from tests.test_browser_plc import fits
from tests.test_browser_program_confirm import SCREENSHOTS, program_page, thai_trainer
from tests.test_next_program_pages import TODAY, put
from tests.test_program_pages import create, programs, trainer_visit

__all__ = ["thai_trainer"]  # the fixture, used by name


def test_a_trainer_submits_with_its_day_then_sets_up_the_next_years_program(
    tool: ToolServer, platform: TestPlatform, browser: Any, thai_trainer: None
) -> None:
    create(trainer_visit(tool, platform), name="PLC ปี 2569 (synthetic)")
    page = program_page(browser, platform)

    day = page.get_by_label("วันที่ส่งคำขอถึงคุรุสภา")
    assert day.input_value() == TODAY.isoformat() and fits(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "program-submit-day-th.png"), full_page=True)
    page.get_by_role("button", name="ส่งคุรุสภา").click()
    page.get_by_role("heading", name="โครงการ PLC").wait_for()
    assert [(p.state, p.submitted_on) for p in programs(tool)] == [(ProgramState.SUBMITTED, TODAY)]

    put(tool, ProgramState.CERTIFICATES_REQUESTED, ended_days_ago=10)
    page.reload()
    page.locator("#next-program-offer").wait_for()
    assert fits(page)
    page.screenshot(path=str(SCREENSHOTS / "next-program-offer-th.png"), full_page=True)
    page.get_by_label("ชื่อโครงการ").fill("PLC ปี 2570 (synthetic)")
    page.get_by_role("button", name="ตั้งโครงการใหม่").click()
    page.locator("#earlier-programs").wait_for()

    assert "PLC ปี 2569" in page.locator("#earlier-programs").inner_text()
    assert sorted((p.name, p.state) for p in programs(tool)) == [
        ("PLC ปี 2569 (synthetic)", ProgramState.CERTIFICATES_REQUESTED),
        ("PLC ปี 2570 (synthetic)", ProgramState.DRAFT),
    ]
